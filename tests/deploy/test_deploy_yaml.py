"""Every YAML file under deploy/ parses; Kubernetes objects validate against schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import ChannelPolicy, Settings, load_settings
from tests.deploy.deploy_files import DEPLOY, OVERLAYS, load_docs, render, yaml_files

# Oldest Kubernetes release still commonly run, and the newest the validator knows.
K8S_VERSIONS = ("1.29.0", "latest")


def _k8s_docs() -> list[Any]:
    out = []
    for path in yaml_files():
        if "k8s" not in path.parts:
            continue
        for doc in load_docs(path):
            if doc.get("kind") != "Kustomization":
                name = f"{path.relative_to(DEPLOY)}:{doc['kind']}/{doc['metadata']['name']}"
                out.append(pytest.param(doc, id=name))
    return out


def test_deploy_holds_the_promised_files() -> None:
    names = {p.relative_to(DEPLOY).as_posix() for p in DEPLOY.rglob("*") if p.is_file()}
    for expected in ("docker-compose.yml", "Dockerfile", "README.md", "slack/manifest.yaml",
                     "tandem.example.yaml", "k8s/base/kustomization.yaml",
                     "k8s/http/kustomization.yaml", "k8s/socket-mode/kustomization.yaml"):
        assert expected in names


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_file_parses_into_mappings(path: Path) -> None:
    docs = load_docs(path)
    assert docs, f"{path} holds no document"
    assert all(isinstance(doc, dict) for doc in docs)


def test_yaml_parse_check_rejects_broken_yaml(tmp_path: Path) -> None:
    # The parse test above must be able to fail: a second document that is broken.
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: 1\n---\nb: [1, 2\n", encoding="utf-8")
    with pytest.raises(yaml.YAMLError):
        load_docs(bad)


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("doc", _k8s_docs())
def test_kubernetes_objects_validate_against_schemas(doc: dict[str, Any], version: str) -> None:
    kv = pytest.importorskip("kubernetes_validate")
    # strict: unknown fields (a misspelt key is silently ignored by a cluster) fail too.
    kv.validate(doc, kv.latest_version() if version == "latest" else version, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rendered_overlays_validate_against_schemas(overlay: str) -> None:
    kv = pytest.importorskip("kubernetes_validate")
    docs = render(DEPLOY / "k8s" / overlay)
    assert docs
    for doc in docs:
        kv.validate(doc, kv.latest_version(), strict=True)


def test_schema_validation_catches_a_misspelt_field() -> None:
    kv = pytest.importorskip("kubernetes_validate")
    (doc,) = load_docs(DEPLOY / "k8s/base/vllm-deployment.yaml")
    doc["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kv.ValidationError):
        kv.validate(doc, kv.latest_version(), strict=True)


def _assert_known_keys(config: dict[str, Any]) -> None:
    # Settings ignores unknown keys, so a typo would silently do nothing.
    assert set(config) <= set(Settings.model_fields), set(config) - set(Settings.model_fields)
    policies = list(config.get("channels", {}).values()) + [config.get("default_policy", {})]
    for policy in policies:
        assert set(policy) <= set(ChannelPolicy.model_fields), policy


def test_example_tandem_yaml_loads_with_settings() -> None:
    path = DEPLOY / "tandem.example.yaml"
    settings = load_settings(config_path=path)
    (config,) = load_docs(path)
    _assert_known_keys(config)
    support = [p for p in settings.channels.values() if p.support]
    assert support and all(p.review_channel for p in support)
    assert settings.traffic["support"]
    assert any(p.auto_post for p in settings.channels.values())


def test_configmap_tandem_yaml_loads_with_settings(tmp_path: Path) -> None:
    (configmap,) = load_docs(DEPLOY / "k8s/base/configmap.yaml")
    path = tmp_path / "tandem.yaml"
    path.write_text(configmap["data"]["tandem.yaml"], encoding="utf-8")
    settings = load_settings(config_path=path)
    _assert_known_keys(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert settings.channels
