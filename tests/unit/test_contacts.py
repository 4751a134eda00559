"""Contact details a draft gives that no one gave the model (`bot.drafting.contacts`)."""

from __future__ import annotations

from bot.drafting.contacts import contacts, invented_contacts, shown

# What the packaged model wrote to a Russian customer in the sandbox.
LIVE = ("Hi, thanks for reaching out to us. We can help by sending an email to "
        "customer service@thrivetech.com.")


def test_an_address_the_conversation_never_gave_is_invented() -> None:
    assert invented_contacts(LIVE, ["Customer message: my parcel never arrived"]) == \
        ("service@thrivetech.com",)


def test_an_address_given_in_any_case_is_not_invented() -> None:
    assert invented_contacts(LIVE, ["Write to Service@ThriveTech.com for refunds."]) == ()


def test_an_address_is_given_only_whole_not_as_the_end_of_a_longer_one() -> None:
    assert invented_contacts(LIVE, ["customer.service@thrivetech.com"]) == \
        ("service@thrivetech.com",)


def test_a_link_is_given_by_a_source_or_its_site_but_another_page_of_it_is_not() -> None:
    given = ["", "https://docs.acme.com/vpn/linux"]
    assert invented_contacts("See https://docs.acme.com/vpn/linux.", given) == ()
    assert invented_contacts("See https://www.docs.acme.com/vpn/linux/ for more.", given) == ()
    assert invented_contacts("Start at https://docs.acme.com", given) == ()
    assert invented_contacts("See https://docs.acme.com/pricing.", given) == \
        ("https://docs.acme.com/pricing",)
    assert invented_contacts("Go to www.acme-help.io/vpn", given) == ("www.acme-help.io/vpn",)


def test_a_link_in_slack_markup_or_markdown_is_read_without_its_label() -> None:
    assert contacts("[the guide](https://a.example/x) or <https://b.example/y|this>") == \
        [("link", "https://a.example/x"), ("link", "https://b.example/y")]


def test_a_phone_number_is_the_same_in_any_spelling_with_or_without_its_country_code() -> None:
    given = ["Call us on (555) 123-4567 any weekday."]
    assert invented_contacts("Please call +1 555 123 4567.", given) == ()
    assert invented_contacts("Please call 555.123.4567 today.", given) == ()
    assert invented_contacts("Please call +1 555 987 6543.", given) == ("+1 555 987 6543",)
    assert invented_contacts("Ring 020 7946 0958 or +49 30 1234567.", []) == \
        ("020 7946 0958", "+49 30 1234567")


def test_dates_versions_times_and_order_numbers_are_not_phone_numbers() -> None:
    text = ("Released 2024-01-15 as 1.2.3.4 (build 10.0.19045.3803), open 09:00-17:30, "
            "order 123456789, years 2019-2020, 12/31/2024, total 1,234,567.89 euros.")
    assert contacts(text) == []


def test_the_prompts_made_up_examples_give_no_details_only_the_ask_and_sources_do() -> None:
    messages = [{"role": "system", "content": "You are Tandem."},
                {"role": "user", "content": "Customer message: where is my order?"},
                {"role": "assistant", "content": "Write to orders@example.com."},
                {"role": "user", "content": "Customer message: refund? I'm at ann@corp.test"},
                {"role": "assistant", "content": "Hi, thanks. We"}]
    given = shown(messages, [{"url": "https://wiki.corp.test/refunds"}])
    assert given == ["Customer message: refund? I'm at ann@corp.test",
                     "https://wiki.corp.test/refunds"]
    assert invented_contacts("We will write to ann@corp.test; see "
                             "https://wiki.corp.test/refunds.", given) == ()
    assert invented_contacts("Write to orders@example.com.", given) == ("orders@example.com",)

