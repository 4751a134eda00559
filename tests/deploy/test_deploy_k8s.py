"""The Kubernetes overlays hang together and keep the promises of deploy/README.md.

These checks hold without a schema validator: required fields, selectors that
match their pods, Services and Ingress that reach a declared port, references to
ConfigMaps, Secrets and claims that exist, and the vLLM and bot specifics.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.deploy_files import (
    DEPLOY,
    OVERLAYS,
    env_of,
    load_docs,
    objects,
    render,
    render_with_resolver,
)

WORKLOADS = ("Deployment", "StatefulSet")


def _stack(overlay: str, *, router: bool = False) -> list[dict[str, Any]]:
    docs = render(DEPLOY / "k8s" / overlay)
    if router:
        docs += render(DEPLOY / "k8s" / "router")
    return docs


def _secrets() -> dict[str, dict[str, Any]]:
    return objects(load_docs(DEPLOY / "k8s/base/secret.example.yaml"), "Secret")


def _pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return dict(workload["spec"]["template"]["spec"])


def _container(docs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (container,) = _pod_spec(objects(docs, "Deployment")[name])["containers"]
    return dict(container)


def _ports(container: dict[str, Any]) -> set[int | str]:
    out: set[int | str] = set()
    for port in container.get("ports", []):
        out |= {port["containerPort"], port.get("name", port["containerPort"])}
    return out


STACKS = [(o, False) for o in OVERLAYS] + [("http", True)]
STACK_IDS = ["http", "socket-mode", "http+router"]


@pytest.fixture(params=STACKS, ids=STACK_IDS)
def stack(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    overlay, router = request.param
    return _stack(overlay, router=router)


def test_objects_have_required_fields_and_unique_names(stack: list[dict[str, Any]]) -> None:
    seen = set()
    for doc in stack:
        assert doc.get("apiVersion") and doc.get("kind") and doc["metadata"].get("name")
        key = (doc["kind"], doc["metadata"]["name"])
        assert key not in seen, f"duplicate {key}"
        seen.add(key)


def test_workload_selectors_match_template_labels(stack: list[dict[str, Any]]) -> None:
    workloads = [d for d in stack if d["kind"] in WORKLOADS]
    assert workloads
    for workload in workloads:
        selector = workload["spec"]["selector"]["matchLabels"]
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), workload["metadata"]["name"]


def test_services_select_pods_and_target_declared_ports(stack: list[dict[str, Any]]) -> None:
    pods = [(w["spec"]["template"]["metadata"]["labels"], c)
            for w in stack if w["kind"] in WORKLOADS for c in _pod_spec(w)["containers"]]
    for name, service in objects(stack, "Service").items():
        selector = service["spec"]["selector"]
        matched = [c for labels, c in pods if selector.items() <= labels.items()]
        assert matched, f"Service {name} selects no pod"
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            assert any(target in _ports(c) for c in matched), f"{name}: {target} not declared"


def test_references_point_at_existing_objects(stack: list[dict[str, Any]]) -> None:
    configmaps = objects(stack, "ConfigMap")
    claims = set(objects(stack, "PersistentVolumeClaim"))
    secrets = _secrets()
    for workload in (d for d in stack if d["kind"] in WORKLOADS):
        spec = _pod_spec(workload)
        claim_templates = workload["spec"].get("volumeClaimTemplates", [])
        templates = {t["metadata"]["name"] for t in claim_templates}
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for volume in volumes.values():
            if "configMap" in volume:
                assert volume["configMap"]["name"] in configmaps
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims
        for container in spec["containers"]:
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in volumes or mount["name"] in templates
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secrets[ref["name"]]["stringData"]


def test_vllm_deployment_has_gpu_probes_and_shared_memory() -> None:
    docs = _stack("http")
    vllm = objects(docs, "Deployment")["vllm"]
    container = _container(docs, "vllm")
    assert container["image"].startswith("vllm/vllm-openai:")
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"
        assert container[probe]["httpGet"]["port"] in _ports(container)
    volumes = {v["name"]: v for v in _pod_spec(vllm)["volumes"]}
    shm = [m for m in container["volumeMounts"] if m["mountPath"] == "/dev/shm"]
    assert shm and volumes[shm[0]["name"]]["emptyDir"]["medium"] == "Memory"
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert "persistentVolumeClaim" in volumes[mounts["/adapters"]["name"]]
    assert "persistentVolumeClaim" in volumes[mounts["/root/.cache/huggingface"]["name"]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_bots_knowledge_base_embeds_through_the_embed_service(overlay: str) -> None:
    docs = _stack(overlay)
    env = env_of(_container(docs, "tandem-bot"))
    service = objects(docs, "Service")["embed"]
    assert env["TANDEM_EMBED_BASE_URL"] == f"http://embed:{service['spec']['ports'][0]['port']}/v1"
    embed = _container(docs, "embed")
    assert objects(docs, "Deployment")["embed"]["spec"]["template"]["metadata"]["labels"][
        "app.kubernetes.io/name"] == service["spec"]["selector"]["app.kubernetes.io/name"]
    args = embed["args"]
    assert args[args.index("--runner") + 1] == "pooling"
    assert args[args.index("--served-model-name") + 1] == env["TANDEM_EMBED_MODEL"]


def test_vllm_serves_runtime_lora_with_prefix_caching() -> None:
    container = _container(_stack("http"), "vllm")
    args = container["args"]
    assert {"--enable-lora", "--enable-prefix-caching", "--max-loras"} <= set(args)
    assert int(args[args.index("--max-lora-rank") + 1]) >= 32
    # GPUs per pod and tensor parallelism must move together.
    gpus = int(container["resources"]["limits"]["nvidia.com/gpu"])
    assert int(args[args.index("--tensor-parallel-size") + 1]) == gpus
    env = env_of(container)
    assert env["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] == "True"
    assert env["VLLM_LORA_RESOLVER_CACHE_DIR"] == "/adapters"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_bot_asks_the_in_cluster_vllm_for_the_served_model(overlay: str) -> None:
    docs = _stack(overlay)
    args = _container(docs, "vllm")["args"]
    served = args[args.index("--served-model-name") + 1] if "--served-model-name" in args \
        else args[args.index("--model") + 1]
    env = env_of(_container(docs, "tandem-bot"))
    assert env["TANDEM_LLM_MODEL"] == served
    assert env["TANDEM_LLM_BASE_URL"] == "http://vllm:8000/v1"
    assert env["TANDEM_DB_URL"]["secretKeyRef"] == {"name": "tandem-db", "key": "url"}
    config = env["TANDEM_CONFIG"]
    mounts = {m["mountPath"] for m in _container(docs, "tandem-bot")["volumeMounts"]}
    assert config.rsplit("/", 1)[0] in mounts
    assert env["TANDEM_METRICS_PORT"] in {str(p) for p in _ports(_container(docs, "tandem-bot"))}


def test_http_mode_bot_serves_slack_events_behind_ingress() -> None:
    docs = _stack("http")
    bot = _container(docs, "tandem-bot")
    env = env_of(bot)
    # An app token would switch the bot to Socket Mode and leave the Ingress idle.
    assert "SLACK_APP_TOKEN" not in env
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"} <= set(env)
    assert env["TANDEM_HTTP_PORT"] == "3001" and 3001 in _ports(bot)
    (ingress,) = objects(docs, "Ingress").values()
    (path,) = ingress["spec"]["rules"][0]["http"]["paths"]
    assert path["path"] == "/slack/events"
    backend = path["backend"]["service"]
    service = objects(docs, "Service")[backend["name"]]
    (port,) = [p for p in service["spec"]["ports"] if p["port"] == backend["port"]["number"]]
    assert port["targetPort"] in _ports(bot) and port["port"] == 3001
    assert ingress["spec"]["tls"], "Slack only calls https:// URLs"


def test_socket_mode_bot_has_app_token_and_at_most_ten_replicas() -> None:
    docs = _stack("socket-mode")
    bot = objects(docs, "Deployment")["tandem-bot"]
    env = env_of(_container(docs, "tandem-bot"))
    assert {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"} <= set(env)
    assert 1 <= bot["spec"]["replicas"] <= 10  # Slack's cap on Socket Mode connections
    assert not objects(docs, "Ingress")


def test_postgres_runs_pgvector_with_persistent_storage() -> None:
    docs = _stack("http")
    (postgres,) = objects(docs, "StatefulSet").values()
    (container,) = _pod_spec(postgres)["containers"]
    assert container["image"] == "pgvector/pgvector:pg17"
    assert postgres["spec"]["volumeClaimTemplates"]
    assert "vector" in objects(docs, "ConfigMap")["postgres-init"]["data"]["10-tandem.sql"]
    url = _secrets()["tandem-db"]["stringData"]["url"]
    assert url.startswith("postgresql+psycopg2://") and "@postgres:5432/" in url


def test_router_hashes_requests_by_slack_thread() -> None:
    docs = render(DEPLOY / "k8s" / "router")
    conf = objects(docs, "ConfigMap")["vllm-router"]["data"]["default.conf"]
    assert "hash $http_x_tandem_thread consistent;" in conf
    assert "proxy_buffering off;" in conf  # SSE tokens must not be held back
    headless = objects(docs, "Service")["vllm-pods"]
    assert headless["spec"]["clusterIP"] == "None"
    assert "vllm-pods." in conf


@pytest.mark.parametrize("overlay", [*OVERLAYS, "router"])
def test_resolver_renders_what_kustomize_renders(overlay: str) -> None:
    # The structural tests run on the resolver when kubectl is absent; keep it honest.
    pytest.importorskip("shutil").which("kubectl") or pytest.skip("kubectl not installed")
    real = {(d["kind"], d["metadata"]["name"]) for d in render(DEPLOY / "k8s" / overlay)}
    ours = {(d["kind"], d["metadata"]["name"]) for d in
            render_with_resolver(DEPLOY / "k8s" / overlay)}
    assert real == ours
