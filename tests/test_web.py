"""The review UI over real HTTP: logins, CSRF, headers, library scoping, audited reveal, release and reject."""

from __future__ import annotations

import re
import sqlite3

import pytest
from quarantine_support import CARD, PATRON_EMAIL, PATRON_NAME, STAFF, hold_patron_message
from web_support import PASSWORD, Client, RunningUi, web_config

from proxy.auth import name_digest
from proxy.cli import main
from proxy.config import load
from proxy.errors import ConfigError
from proxy.quarantine import ItemState, open_store
from proxy.web.accounts import load_reviewers

pytest_plugins = ["quarantine_fixtures"]


@pytest.fixture
def setup(tmp_path, sink):  # type: ignore[no-untyped-def]
    path = web_config(tmp_path, f"smtp://127.0.0.1:{sink.port}")
    store = open_store(load(path).quarantine, create=True)
    running = RunningUi(path)
    yield path, store, running
    running.close()
    store.close()


def _notices(path) -> list[bytes]:  # type: ignore[no-untyped-def]
    from pathlib import Path

    queue = Path(load(path).spool.state_dir) / "spool" / "queue"
    return [p.read_bytes() for p in sorted(queue.glob("*.msg"))]


def test_pages_need_a_login_and_a_wrong_password_is_refused(setup) -> None:  # type: ignore[no-untyped-def]
    """Without a session every page sends you to the login; a wrong password is a 401 with plain words."""
    _, store, running = setup
    item = hold_patron_message(store)
    client = Client(running.port)
    page = client.get(f"/items/{item}", follow=False)
    assert page.status == 303 and page.headers["Location"] == "/login"
    page = client.login(password="wrong password")
    assert page.status == 401 and "do not match" in page.body
    page = client.login()
    assert page.status == 200 and item in page.body and "Held mail" in page.body


def test_failed_logins_are_limited_per_client(setup) -> None:  # type: ignore[no-untyped-def]
    """After max_failures wrong passwords even the right one waits (429)."""
    client = Client(setup[2].port)
    for _ in range(3):
        assert client.login(password="nope nope nope").status == 401
    page = client.login()
    assert page.status == 429 and "Too many" in page.body


WRONG = "nope nope nope"


def test_a_good_sign_in_does_not_reset_guessing_at_another_account(setup) -> None:  # type: ignore[no-untyped-def]
    """From one computer, wrong guesses at dallas interleaved with maria's good sign-ins are limited all the same:
    of 13 guesses at most max_failures are tried, the rest get 429."""
    client = Client(setup[2].port)
    tried = 0
    for n in range(13):
        page = client.login("dallas", WRONG)
        tried += page.status == 401
        assert page.status in (401, 429)
        if n % 2:
            client.cookies.clear()
            client.login()  # maria, right password (refused too once this computer is over the limit)
            client.cookies.clear()
    assert tried == 3


def test_failed_sign_ins_are_limited_per_account_across_addresses(setup) -> None:  # type: ignore[no-untyped-def]
    """Wrong passwords for one account from several addresses lock that account for a while, not the others."""
    port = setup[2].port
    for n in range(3):
        assert Client(port, f"127.0.0.{10 + n}").login("dallas", WRONG).status == 401
    refused = Client(port, "127.0.0.20").login("dallas")  # the right password, from a fresh address
    assert refused.status == 429 and "for this name" in refused.body
    assert Client(port, "127.0.0.21").login().status == 200  # maria is not affected


def test_a_success_clears_only_its_own_accounts_count(setup) -> None:  # type: ignore[no-untyped-def]
    """dallas' failures survive maria's sign-in from the same address; dallas' own sign-in clears them."""
    port = setup[2].port
    for n in range(2):
        assert Client(port, f"127.0.0.{30 + n}").login("dallas", WRONG).status == 401
    assert Client(port, "127.0.0.31").login().status == 200  # maria: her count only
    assert Client(port, "127.0.0.32").login("dallas", WRONG).status == 401
    assert Client(port, "127.0.0.33").login("dallas").status == 429  # 3 failures for dallas
    # A success of dallas' own, once allowed, starts dallas' count again.
    app = setup[2].ui.app
    app.account_failures.pop("dallas")
    assert Client(port, "127.0.0.34").login("dallas").status == 200
    assert "dallas" not in app.account_failures


def test_signed_out_visits_to_the_login_page_keep_a_bounded_number_of_sessions(setup, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each cookie-less GET /login makes a session, but only MAX_ANONYMOUS_SESSIONS are kept (oldest evicted);
    signed-in sessions are never evicted by them."""
    import proxy.web.app as web_app

    monkeypatch.setattr(web_app, "MAX_ANONYMOUS_SESSIONS", 20)
    running = setup[2]
    reviewer = Client(running.port)
    assert reviewer.login().status == 200
    for _ in range(60):
        assert Client(running.port).get("/login").status == 200
    assert setup[1].session_counts() == (1, 20)
    assert reviewer.get("/").status == 200 and "Held" in reviewer.get("/").body


def test_a_post_without_the_csrf_token_changes_nothing(setup) -> None:  # type: ignore[no-untyped-def]
    """A forged form (no or wrong token) is refused with 403 and the item stays held."""
    _, store, running = setup
    item = hold_patron_message(store)
    client = Client(running.port)
    client.login()
    for token in ("", "forged"):
        page = client.post(f"/items/{item}/reject", {"csrf": token, "note": "x", "confirm": "yes"})
        assert page.status == 403
    assert store.get(item).state is ItemState.HELD
    other = Client(running.port)
    assert other.post("/login", {"csrf": "x", "name": "maria", "password": PASSWORD}).status == 403


def test_every_response_has_the_security_headers(setup) -> None:  # type: ignore[no-untyped-def]
    """Login, list, item and error pages all carry CSP, frame, sniffing, referrer and no-store headers."""
    _, store, running = setup
    item = hold_patron_message(store)
    client = Client(running.port)
    pages = [client.get("/login")]
    client.login()
    pages += [client.get("/"), client.get(f"/items/{item}"), client.get("/items/q-unknown"), client.get("/static/style.css")]
    assert [p.status for p in pages] == [200, 200, 200, 404, 200]
    for page in pages:
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert page.headers["Cache-Control"] == "no-store"
    cookie = client.get("/login", follow=False)
    assert cookie.status == 303  # logged in: the login page sends you on


def test_session_cookie_is_httponly_and_strict(tmp_path, sink) -> None:  # type: ignore[no-untyped-def]
    """The session cookie cannot be read by scripts, is not sent cross-site, and is Secure when configured."""
    path = web_config(tmp_path, f"smtp://127.0.0.1:{sink.port}", "  secure_cookies: true\n")
    running = RunningUi(path)
    try:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
        conn.request("GET", "/login")
        cookie = conn.getresponse().headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie
    finally:
        running.close()


def test_the_list_and_item_pages_show_masked_data_only(setup) -> None:  # type: ignore[no-untyped-def]
    """Without a reveal, no page shows the card, the patron's address or name; the masked excerpt is there."""
    _, store, running = setup
    item = hold_patron_message(store)
    client = Client(running.port)
    client.login()
    for page in (client.get("/"), client.get(f"/items/{item}"), client.get(f"/items/{item}/audit")):
        assert page.status == 200
        for secret in (CARD, PATRON_EMAIL, PATRON_NAME):
            assert secret not in page.body
    assert "card 2361******2817 has" in client.get(f"/items/{item}").body


def test_reveal_shows_the_message_and_is_audited_with_the_web_origin(setup) -> None:  # type: ignore[no-untyped-def]
    """Showing the full message records a reveal by the signed-in supervisor from the web, before it is shown."""
    _, store, running = setup
    item = hold_patron_message(store)
    client = Client(running.port)
    client.login()
    page = client.get(f"/items/{item}")
    page = client.post(f"/items/{item}/reveal", {"csrf": page.csrf})
    assert page.status == 200 and CARD in page.body and PATRON_EMAIL in page.body
    reveal = [r for r in store.audit_log() if r.action == "reveal"]
    assert len(reveal) == 1 and reveal[0].actor == "maria" and reveal[0].origin == "web 127.0.0.1"
    assert reveal[0].item_id == item


def test_a_supervisor_sees_only_their_libraries(setup) -> None:  # type: ignore[no-untyped-def]
    """A supervisor scoped to dallasor.gov does not see a cityofsalem.net item: not in the list, 404 on its page."""
    _, store, running = setup
    item = hold_patron_message(store)
    assert store.get(item).library == "cityofsalem.net"
    dallas = store.hold(b"From: circ@dallasor.gov\r\n\r\ncard " + CARD.encode() + b"\r\n", "circ@dallasor.gov",
                        [PATRON_EMAIL], ["external"], ["patron-card"], [], library="dallasor.gov")
    client = Client(running.port)
    client.login("dallas")
    listing = client.get("/").body
    assert item not in listing and dallas in listing
    assert "Held: 1<" in listing  # counts of what this supervisor may see, not of the consortium
    assert client.get(f"/items/{item}").status == 404
    page = client.get("/")
    assert client.post(f"/items/{item}/release", {"csrf": page.csrf, "note": "ok", "confirm": "yes"}).status == 404
    assert store.get(item).state is ItemState.HELD


def test_release_delivers_the_original_to_the_held_recipients_only(setup, sink) -> None:  # type: ignore[no-untyped-def]
    """Release over real SMTP: the sink gets the original for the held recipient; audited as maria from the web."""
    _, store, running = setup
    item = hold_patron_message(store)
    client = Client(running.port)
    client.login()
    page = client.get(f"/items/{item}")
    page = client.post(f"/items/{item}/release", {"csrf": page.csrf, "note": "checked with the branch", "confirm": "yes"})
    assert page.status == 200 and "Released" in page.body
    assert [(m[0], m[1]) for m in sink.messages] == [(STAFF, [PATRON_EMAIL])]
    assert CARD.encode() in sink.messages[0][2]
    done = store.get(item)
    assert done.state is ItemState.RELEASED and done.reviewer == "maria" and done.note == "checked with the branch"
    release = [r for r in store.audit_log() if r.action == "release"]
    assert release[0].actor == "maria" and release[0].origin == "web 127.0.0.1"
    assert [item.encode() in n and b"has been sent" in n for n in _notices(setup[0])] == [True]


def test_a_refused_release_stays_visible_with_its_reason(setup, sink) -> None:  # type: ignore[no-untyped-def]
    """Upstream refuses: the page says the release did not go through, the item is failed and can be retried."""
    _, store, running = setup
    item = hold_patron_message(store)
    sink.handler.refuse_data = "550 5.7.1 relaying denied"
    client = Client(running.port)
    client.login()
    page = client.get(f"/items/{item}")
    page = client.post(f"/items/{item}/release", {"csrf": page.csrf, "note": "try", "confirm": "yes"})
    assert "did not go through" in page.body or "refused" in page.body
    assert store.get(item).state is ItemState.FAILED
    assert "Release failed" in client.get("/").body


def test_release_redacted_sends_a_masked_copy(setup, sink) -> None:  # type: ignore[no-untyped-def]
    """Release-redacted from the web sends a copy without the card number (the last four digits as a hint)."""
    _, store, running = setup
    item = hold_patron_message(store)
    client = Client(running.port)
    client.login()
    page = client.get(f"/items/{item}")
    page = client.post(f"/items/{item}/release-redacted", {"csrf": page.csrf, "note": "masked copy", "confirm": "yes"})
    assert page.status == 200
    assert store.get(item).state is ItemState.RELEASED_REDACTED
    (copy,) = [m[2] for m in sink.messages]
    assert CARD.encode() not in copy and b"2817" in copy and b"X-PatronGuard-Redacted: yes" in copy


def test_reject_needs_a_note_and_then_tells_the_sender(setup) -> None:  # type: ignore[no-untyped-def]
    """No note or no confirmation: 400 and nothing changes; with both the item is rejected and a notice spooled."""
    path, store, running = setup
    item = hold_patron_message(store)
    client = Client(running.port)
    client.login()
    page = client.get(f"/items/{item}")
    assert client.post(f"/items/{item}/reject", {"csrf": page.csrf, "note": " ", "confirm": "yes"}).status == 400
    assert client.post(f"/items/{item}/reject", {"csrf": page.csrf, "note": "wrong list"}).status == 400
    assert store.get(item).state is ItemState.HELD
    page = client.post(f"/items/{item}/reject", {"csrf": page.csrf, "note": "wrong list", "confirm": "yes"})
    assert page.status == 200 and "Rejected" in page.body
    assert store.get(item).state is ItemState.REJECTED
    notices = _notices(path)
    assert len(notices) == 1 and b"wrong list" in notices[0] and CARD.encode() not in notices[0]
    again = client.get(f"/items/{item}")
    assert "Decide" not in again.body  # a decided item has no action forms
    history = client.get(f"/items/{item}/audit").body
    assert re.search(r"reject.*web 127\.0\.0\.1", history, re.S)


def test_logout_ends_the_session(setup) -> None:  # type: ignore[no-untyped-def]
    """After signing out the old cookie no longer opens pages."""
    client = Client(setup[2].port)
    page = client.login()
    stolen = dict(client.cookies)
    client.post("/logout", {"csrf": page.csrf})
    client.cookies = stolen
    assert client.get("/", follow=False).status == 303


def test_the_logs_hash_login_names_and_carry_no_patron_data(setup) -> None:  # type: ignore[no-untyped-def]
    """web.* log events carry item ids and hashed login names (mistyped or not); no identifiers."""
    import io

    from proxy import logs

    _, store, running = setup
    item = hold_patron_message(store)
    stream = io.StringIO()
    logs.configure("debug", stream)  # the production log setup (JSON, allow-listed keys), into a buffer
    try:
        client = Client(running.port)
        client.login("maria-typo", "x" * 12)
        page = client.login()
        client.post(f"/items/{item}/reveal", {"csrf": page.csrf})
    finally:
        logs.configure()
    err = stream.getvalue()
    assert "maria-typo" not in err
    assert name_digest("maria") in err and "web.reveal" in err
    for secret in (CARD, PATRON_EMAIL, PATRON_NAME):
        assert secret not in err


def test_the_database_holds_no_clear_identifiers_after_web_actions(setup, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """After list, show and reject through the web the quarantine file has no clear card number."""
    _, store, running = setup
    item = hold_patron_message(store)
    client = Client(running.port)
    page = client.login()
    client.get(f"/items/{item}")
    done = client.post(f"/items/{item}/reject", {"csrf": page.csrf, "note": "no", "confirm": "yes"})
    assert done.status == 200 and "Rejected" in done.body
    assert store.get(item).state is ItemState.REJECTED
    sqlite3.connect(tmp_path / "q.db").execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    files = sorted(tmp_path.glob("q.db*"))
    assert tmp_path / "q.db" in files
    data = b"".join(file.read_bytes() for file in files)
    assert b"circ@cityofsalem.net" in data and item.encode() in data  # the clear metadata is there to be read
    assert CARD.encode() not in data


# ----------------------------------------------------------------- accounts and the CLI


def test_review_user_add_writes_a_hash_that_logs_in(tmp_path, sink, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`review-user add` (password on stdin) stores a hash, never the password; the UI accepts it."""
    import io

    path = web_config(tmp_path, f"smtp://127.0.0.1:{sink.port}")
    monkeypatch.setattr("sys.stdin", io.StringIO("a long new password\n"))
    assert main(["review-user", "add", "omar", "--libraries", "ccrls.org", "--config", str(path)]) == 0
    text = (tmp_path / "state" / "review-users").read_text()
    assert "omar:scrypt$" in text and "a long new password" not in text and text.rstrip().endswith(":ccrls.org")
    assert (tmp_path / "state" / "review-users").stat().st_mode & 0o077 == 0
    reviewers = load_reviewers(load(path).review_ui, load(path).spool.state_dir)
    assert reviewers["omar"].libraries == frozenset({"ccrls.org"})
    running = RunningUi(path)
    try:
        assert Client(running.port).login("omar", "a long new password").status == 200
    finally:
        running.close()
    assert main(["review-user", "remove", "omar", "--config", str(path)]) == 0
    assert "omar" not in (tmp_path / "state" / "review-users").read_text()


def test_review_user_errors_are_one_line(tmp_path, sink, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A short password, a bad library and an unknown account are usage errors that say what is expected."""
    import io

    path = str(web_config(tmp_path, f"smtp://127.0.0.1:{sink.port}"))
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["review-user", "add", "omar", "--config", path]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("long enough password\n"))
    assert main(["review-user", "add", "omar", "--libraries", "not a domain", "--config", path]) == 2
    assert main(["review-user", "remove", "nobody", "--config", path]) == 2
    assert main(["review-ui", "--listen", "nowhere", "--config", path]) == 2
    err = capsys.readouterr().err
    assert "at least 10 characters" in err and "member library domains" in err and "no account 'nobody'" in err
    assert "--listen 'nowhere': expected" in err and "Traceback" not in err


def test_a_bad_users_file_names_file_and_line_but_not_the_hash(tmp_path, sink) -> None:  # type: ignore[no-untyped-def]
    """A malformed hash in the users file is a ConfigError with the file and line; the hash is not echoed."""
    path = web_config(tmp_path, f"smtp://127.0.0.1:{sink.port}")
    users = tmp_path / "state" / "review-users"
    users.write_text(users.read_text() + "eve:scrypt$notahash-SECRETISH\n")
    with pytest.raises(ConfigError) as error:
        load_reviewers(load(path).review_ui, load(path).spool.state_dir)
    assert f"{users}:3:" in str(error.value) and "SECRETISH" not in str(error.value)


def test_a_bad_review_ui_key_names_file_line_and_key(tmp_path) -> None:
    """review_ui.listen and review_ui.url are checked when the config loads."""
    path = tmp_path / "config.yaml"
    path.write_text("review_ui:\n  listen: somewhere\n  url: ftp://x\n")
    with pytest.raises(ConfigError) as error:
        load(path)
    text = str(error.value)
    assert f"{path}:2: review_ui.listen" in text and f"{path}:3: review_ui.url" in text


def test_a_held_fax_job_is_labelled_and_offers_approval_not_redaction(setup) -> None:  # type: ignore[no-untyped-def]
    """A HylaFAX job item says it is a fax, offers 'Approve this fax' and Reject, and no redacted release."""
    _, store, running = setup
    item = store.hold(b"From: owner@ccrls.org\r\n\r\ncard " + CARD.encode() + b"\r\n", "owner@ccrls.org",
                      ["fax:+15035550100"], ["fax"], ["patron-card"], [], queue_id="fax-job:12:0123456789abcdef")
    client = Client(running.port)
    client.login()
    assert "fax job:" in client.get("/").body
    page = client.get(f"/items/{item}").body
    assert "Held fax job" in page and "Approve this fax" in page and "resubmit" in page
    assert "release-redacted" not in page and f"/items/{item}/reject" in page


def test_a_decisions_banner_shows_on_its_own_item_and_names_it(setup) -> None:  # type: ignore[no-untyped-def]
    """A decision's banner never appears on another item's page (two tabs), and it names the item it is about."""
    _, store, running = setup
    first, second = hold_patron_message(store), hold_patron_message(store, card="23610003622825")
    client = Client(running.port)
    client.login()
    page = client.get(f"/items/{first}")
    decided = client.post(f"/items/{first}/reject", {"csrf": page.csrf, "note": "no", "confirm": "yes"}, follow=False)
    assert decided.status == 303
    other = client.get(f"/items/{second}")  # the other tab loads first
    assert 'class="flash' not in other.body
    own = client.get(f"/items/{first}")
    assert f"{first} — Rejected" in own.body  # no subject kept for this item: its reference
    assert 'class="flash' not in client.get(f"/items/{first}").body  # shown once


def test_bulk_reject_decides_and_audits_each_ticked_item_with_one_note(setup) -> None:  # type: ignore[no-untyped-def]
    """Ticking two items and rejecting them with one note rejects each, with its own audit record and the note."""
    _, store, running = setup
    first, second, untouched = (hold_patron_message(store), hold_patron_message(store, card="23610003622825"),
                                hold_patron_message(store))
    client = Client(running.port)
    client.login()
    page = client.get("/")
    assert f'name="item" value="{first}"' in page.body
    form = {"csrf": page.csrf, "note": "Please use the secure portal.", "confirm": "yes", "action": "reject"}
    body = "&".join([*(f"item={i}" for i in (first, second)), *(f"{k}={v.replace(' ', '+')}" for k, v in form.items())])
    page = _post_raw(client, "/bulk", body)
    assert "Rejected 2 messages, each sender told with your note" in page.body
    assert store.get(first).state is ItemState.REJECTED and store.get(second).state is ItemState.REJECTED
    assert store.get(untouched).state is ItemState.HELD
    rejects = [r for r in store.audit_log() if r.action == "reject"]
    assert sorted(r.item_id for r in rejects) == sorted([first, second])
    assert {r.actor for r in rejects} == {"maria"}
    assert store.get(first).note == "Please use the secure portal."


def test_bulk_decisions_need_a_note_and_skip_another_librarys_items(setup) -> None:  # type: ignore[no-untyped-def]
    """Without a note nothing is decided; a supervisor of Dallas cannot decide Salem's items in bulk (they stay held)."""
    _, store, running = setup
    salem = hold_patron_message(store)
    maria = Client(running.port)
    maria.login()
    page = maria.get("/")
    page = _post_raw(maria, "/bulk", f"item={salem}&action=reject&confirm=yes&note=&csrf={page.csrf}")
    assert "write a short note" in page.body and store.get(salem).state is ItemState.HELD
    dallas = Client(running.port)
    dallas.login("dallas")
    page = dallas.get("/")
    assert salem not in page.body
    page = _post_raw(dallas, "/bulk", f"item={salem}&action=reject&confirm=yes&note=no&csrf={page.csrf}")
    assert "not one you review" in page.body
    assert store.get(salem).state is ItemState.HELD
    assert not [r for r in store.audit_log() if r.action == "reject"]


def _post_raw(client: Client, path: str, body: str):  # type: ignore[no-untyped-def]
    """POST an urlencoded body with repeated keys (item=…&item=…), as a browser sends ticked boxes; follow the redirect."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=30)
    conn.request("POST", path, body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())})
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.status == 303, response.status
    return client.get(response.headers["Location"])


def test_the_redacted_copy_can_be_previewed_before_deciding_and_the_opening_is_audited(setup, sink) -> None:  # type: ignore[no-untyped-def]
    """Preview shows the masked copy the recipients would get (no card number), records a reveal, and sends nothing."""
    _, store, running = setup
    item = hold_patron_message(store)
    client = Client(running.port)
    client.login()
    page = client.get(f"/items/{item}")
    assert "Preview the redacted copy first" in page.body
    page = client.post(f"/items/{item}/preview-redacted", {"csrf": page.csrf})
    assert page.status == 200 and "What the recipients would get" in page.body
    assert CARD not in page.body and "Release a redacted copy" in page.body
    assert [r.action for r in store.audit_log() if r.item_id == item].count("reveal") == 1
    assert store.get(item).state is ItemState.HELD and sink.messages == []


def _admin_ui(tmp_path, sink):  # type: ignore[no-untyped-def]
    from web_support import PASSWORD as PW

    from proxy.web.accounts import set_reviewer

    path = web_config(tmp_path, f"smtp://127.0.0.1:{sink.port}")
    set_reviewer(tmp_path / "state" / "review-users", "ada", PW, admin=True)
    return path


def test_an_admin_sees_every_library_the_audit_trail_with_filters_and_csv_and_the_accounts(tmp_path, sink) -> None:  # type: ignore[no-untyped-def]
    """An admin (review-user add --admin) reviews every library, filters the audit trail across items, exports it as CSV and lists the accounts."""
    path = _admin_ui(tmp_path, sink)
    store = open_store(load(path).quarantine)
    running = RunningUi(path)
    try:
        first, second = hold_patron_message(store), hold_patron_message(store)
        ada = Client(running.port)
        ada.login("ada")
        page = ada.get(f"/items/{first}")
        ada.post(f"/items/{first}/reject", {"csrf": page.csrf, "note": "no", "confirm": "yes"})
        page = ada.get("/audit?action=reject")
        assert page.status == 200 and first in page.body and second not in page.body and "1 record" in page.body
        assert "Audit trail" in page.body and "Accounts" in page.body  # the admin's navigation
        page = ada.get(f"/audit?item={second}")
        assert second in page.body and "hold" in page.body and first not in page.body.split("<tbody>")[1]
        exported = ada.get("/audit.csv?action=reject")
        assert exported.status == 200 and exported.headers["Content-Type"].startswith("text/csv")
        rows = exported.body.strip().splitlines()
        assert rows[0].startswith("seq,when_utc,who,action,item") and len(rows) == 2 and f",ada,reject,{first}," in rows[1]
        page = ada.get("/accounts")
        assert "ada" in page.body and "admin" in page.body and "dallasor.gov" in page.body and "$" not in page.body
    finally:
        running.close()
        store.close()


def test_supervisors_are_refused_the_admin_pages(tmp_path, sink) -> None:  # type: ignore[no-untyped-def]
    """A supervisor, of one library or of all, gets 403 on the audit trail, its CSV and the accounts, and no links to them."""
    path = _admin_ui(tmp_path, sink)
    running = RunningUi(path)
    try:
        for name in ("maria", "dallas"):
            client = Client(running.port)
            client.login(name)
            assert "/audit" not in client.get("/").body
            for page in ("/audit", "/audit.csv", "/accounts"):
                refused = client.get(page)
                assert refused.status == 403 and "For admins only" in refused.body, (name, page)
    finally:
        running.close()


def test_review_user_add_admin_writes_the_role_and_refuses_libraries_with_it(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`review-user add --admin` marks the account admin in the users file; with --libraries it is a usage error."""
    config = tmp_path / "c.yaml"
    config.write_text(f"library:\n  domains: [ccrls.org]\nspool:\n  state_dir: {tmp_path}\n")
    assert main(["review-user", "add", "ada", "--admin", "--generate", "--config", str(config)]) == 0
    line = (tmp_path / "review-users").read_text().strip()
    assert line.startswith("ada:") and line.endswith("::admin")
    assert load_reviewers(load(config).review_ui, tmp_path)["ada"].admin
    assert main(["review-user", "add", "bob", "--admin", "--libraries", "dallasor.gov", "--generate",
                 "--config", str(config)]) == 2
