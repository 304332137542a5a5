"""Absolute links come from PUBLIC_URL, never from the Host header; untrusted hosts are refused."""
import re

from portal.urls import public_url
from tests.conftest import PUBLIC_URL


def _mailed_links(outbox):
    return [link for mail in outbox for link in re.findall(r"https?://\S+", mail.body)]


def test_a_reset_request_for_a_forged_host_is_refused_and_mails_nothing(client, member, outbox):
    """Does `Host: evil.example` get a reset link mailed to evil.example? (it must get a 400 and no mail)"""
    response = client.post("/forgot-password", data={"email": member.email}, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert outbox == []


def test_reset_links_use_the_public_address_whatever_host_was_asked(client, member, outbox):
    """Even through a trusted alias (localhost), the mailed link points at PUBLIC_URL."""
    client.post("/forgot-password", data={"email": member.email}, base_url="http://localhost:5000")
    [link] = _mailed_links(outbox)
    assert link.startswith(f"{PUBLIC_URL}/reset-password/")


def test_the_api_answers_a_forged_host_with_the_json_error_shape(client):
    response = client.get("/api/v1/categories", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_share_links_in_the_api_use_the_public_address(client, member, bearer):
    response = client.get("/api/v1/me/referrals", headers=bearer(member), base_url="http://127.0.0.1:5000")
    assert response.get_json()["link"] == f"{PUBLIC_URL}/r/{member.referral_code}"


def test_public_links_are_built_outside_a_request_too(make_app):
    """The outbox worker and the CLI have no request: links still come from PUBLIC_URL."""
    app = make_app(PUBLIC_URL="https://example.org/community", SERVER_NAME=None)
    with app.app_context():
        assert public_url("referrals.landing", code="abc") == "https://example.org/community/r/abc"
        assert public_url("community.topic", topic_id=3, _anchor="post-2") == \
            "https://example.org/community/t/3#post-2"


def test_trusted_hosts_default_to_the_public_address_and_this_machine(make_app):
    app = make_app(PUBLIC_URL="https://forum.example.com", TRUSTED_HOSTS=None, SERVER_NAME=None)
    client = app.test_client()
    assert client.get("/", base_url="https://forum.example.com").status_code == 200
    assert client.get("/", base_url="http://127.0.0.1:5000").status_code == 200
    assert client.get("/", base_url="http://evil.example").status_code == 400
