"""`hivecord check-config` and each curation account's posting key, through the real command line
against the loopback node: set or not, a key or not, one of the account's posting keys or not, and
the key's text in no output whatever happens."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from beemgraphenebase.account import PasswordKey

from tests.fakes.hive import FakeHiveNode
from tests.fakes.hive.condenser_api import hive_account
from tests.helpers import cli_command, cli_env, write_config

ACCOUNT = "animerealm.cur"
VARIABLE = "HIVECORD_POSTING_KEY_ANIMEREALM_CUR"
CURATION = '[curation]\naccounts = { "hive-158489" = "animerealm.cur" }\n'


def key_pair(role: str) -> tuple[str, str]:
    """(WIF, STM public key), made up but real, and the same every run."""
    private = PasswordKey(ACCOUNT, "not a real password", role=role, prefix="STM").get_private_key()
    return str(private), str(private.pubkey)


POSTING_WIF, POSTING_PUB = key_pair("posting")
OTHER_WIF, OTHER_PUB = key_pair("memo")
ACTIVE_WIF, ACTIVE_PUB = key_pair("active")
BROKEN_WIF = POSTING_WIF[:-3] + ("abc" if not POSTING_WIF.endswith("abc") else "abd")


@pytest.fixture
def node() -> Iterator[FakeHiveNode]:
    with FakeHiveNode({}, head=1) as fake:
        account = hive_account(ACCOUNT, [(POSTING_PUB, 1)])
        account["active"]["key_auths"] = [[ACTIVE_PUB, 1]]
        fake.accounts[ACCOUNT] = account
        yield fake


def check(folder: Path, nodes: list[str], curation: str = CURATION, **env: str) -> subprocess.CompletedProcess[str]:
    config = write_config(folder, nodes, extra=curation, request_timeout=1)
    result = subprocess.run(
        cli_command("check-config", "--config", str(config)),
        env=cli_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    for secret in (POSTING_WIF, OTHER_WIF, ACTIVE_WIF, BROKEN_WIF):
        for shown in (result.stdout, result.stderr):
            # Not the key, nor any long piece of it.
            assert not any(secret[i : i + 12] in shown for i in range(len(secret) - 11)), shown
    return result


def test_the_accounts_posting_key(tmp_path: Path, node: FakeHiveNode) -> None:
    result = check(tmp_path, [node.url], **{VARIABLE: POSTING_WIF})
    assert result.returncode == 0, result.stderr
    assert f"curation hive-158489: account {ACCOUNT}, key {VARIABLE} set, one of its posting keys" in result.stdout


def test_a_key_variable_with_spaces_around_it_is_read(tmp_path: Path, node: FakeHiveNode) -> None:
    # An env file or a Docker secret often ends the line with a newline.
    result = check(tmp_path, [node.url], **{VARIABLE: f" {POSTING_WIF}\n"})
    assert result.returncode == 0, result.stderr
    assert "one of its posting keys" in result.stdout


def test_not_one_of_its_posting_keys(tmp_path: Path, node: FakeHiveNode) -> None:
    result = check(tmp_path, [node.url], **{VARIABLE: OTHER_WIF})
    assert result.returncode == 1
    assert (
        f"curation hive-158489: account {ACCOUNT}, key {VARIABLE} set, but it is NOT one of {ACCOUNT}'s posting keys: "
        "curation is off for hive-158489"
    ) in result.stderr
    assert "curation: 1 problem(s) found" in result.stderr


def test_a_posting_key_below_the_threshold(tmp_path: Path, node: FakeHiveNode) -> None:
    node.accounts[ACCOUNT] = hive_account(ACCOUNT, [(POSTING_PUB, 1), (OTHER_PUB, 1)], threshold=2)
    result = check(tmp_path, [node.url], **{VARIABLE: POSTING_WIF})
    assert result.returncode == 1
    assert "with a weight below the posting threshold: curation is off for hive-158489" in result.stderr


def test_the_active_key_is_refused_even_when_it_posts_too(tmp_path: Path, node: FakeHiveNode) -> None:
    node.accounts[ACCOUNT]["posting"]["key_auths"].append([ACTIVE_PUB, 1])
    result = check(tmp_path, [node.url], **{VARIABLE: ACTIVE_WIF})
    assert result.returncode == 1
    assert f"it is {ACCOUNT}'s active key, which can move funds" in result.stderr


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (BROKEN_WIF, "with a wrong checksum"),
        (POSTING_PUB, "it is a public key"),
        ("P5" + POSTING_WIF[2:], "master password"),
        ("hunter2-is-my-key", "not a private key in WIF"),
    ],
    ids=["checksum", "public key", "master password", "not a key"],  # ids of their own: no key in a test name
)
def test_a_variable_that_holds_no_key(tmp_path: Path, node: FakeHiveNode, text: str, says: str) -> None:
    result = check(tmp_path, [node.url], **{VARIABLE: text})
    assert result.returncode == 1
    line = next(x for x in result.stderr.splitlines() if x.startswith("curation hive-158489:"))
    assert f"key {VARIABLE} set, but " in line and says in line and line.endswith("curation is off for hive-158489")
    assert text not in result.stdout + result.stderr


def test_no_key_is_a_notice(tmp_path: Path, node: FakeHiveNode) -> None:
    result = check(tmp_path, [node.url], **{VARIABLE: ""})
    assert result.returncode == 0, result.stderr
    assert f"curation hive-158489: account {ACCOUNT}, key {VARIABLE} not set: curation is off for hive-158489" in (
        result.stdout
    )
    assert node.calls["condenser_api.get_accounts"] == 0  # nothing to check, nothing asked


def test_an_account_the_node_does_not_know(tmp_path: Path, node: FakeHiveNode) -> None:
    del node.accounts[ACCOUNT]
    result = check(tmp_path, [node.url], **{VARIABLE: POSTING_WIF})
    assert result.returncode == 1
    assert f"Hive knows no account {ACCOUNT}: curation is off" in result.stderr


def test_no_node_answering_is_said_plainly(tmp_path: Path) -> None:
    # Port 9 on loopback: nothing listens, every attempt is refused at once.
    result = check(tmp_path, ["http://127.0.0.1:9"], **{VARIABLE: POSTING_WIF})
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stderr.splitlines() if x.startswith("curation hive-158489:"))
    assert f"key {VARIABLE} set, but NOT checked: no Hive node answered condenser_api.get_accounts" in line


def test_a_key_no_account_reads_is_named(tmp_path: Path, node: FakeHiveNode) -> None:
    result = check(tmp_path, [node.url], **{VARIABLE: POSTING_WIF, "HIVECORD_POSTING_KEY_OTHER_CUR": OTHER_WIF})
    assert result.returncode == 0, result.stderr
    assert "HIVECORD_POSTING_KEY_OTHER_CUR is set, but no account of curation.accounts reads it" in result.stdout


def test_several_communities_one_account_one_question(tmp_path: Path, node: FakeHiveNode) -> None:
    curation = '[curation]\naccounts = { "hive-158489" = "animerealm.cur", "hive-123456" = "animerealm.cur" }\n'
    result = check(tmp_path, [node.url], curation, **{VARIABLE: POSTING_WIF})
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("one of its posting keys") == 2
    assert node.calls["condenser_api.get_accounts"] == 1


def test_a_key_in_the_file_is_refused_without_its_value(tmp_path: Path, node: FakeHiveNode) -> None:
    curation = f'[curation]\naccounts = {{ "hive-158489" = "animerealm.cur" }}\nposting_key = "{POSTING_WIF}"\n'
    result = check(tmp_path, [node.url], curation)
    assert result.returncode == 1
    assert "curation.posting_key: remove this key from the file" in result.stderr
    pasted = f'[curation]\naccounts = {{ "hive-158489" = "{POSTING_WIF}" }}\n'
    result = check(tmp_path, [node.url], pasted)
    assert result.returncode == 1
    assert "curation.accounts.hive-158489: this looks like a private key" in result.stderr


def test_a_key_without_any_curation_account_is_named(tmp_path: Path) -> None:
    result = check(tmp_path, ["http://127.0.0.1:9"], "", **{VARIABLE: POSTING_WIF})
    assert result.returncode == 0, result.stderr
    assert f"{VARIABLE} is set, but no account of curation.accounts reads it" in result.stdout


def test_the_bridge_accounts_key_is_checked_by_the_same_rule(tmp_path: Path, node: FakeHiveNode) -> None:
    bridge = f'[bridge]\naccount = "{ACCOUNT}"\n'
    result = check(tmp_path, [node.url], curation=bridge, **{VARIABLE: POSTING_WIF})
    assert result.returncode == 0, result.stderr
    assert f"bridge: account {ACCOUNT}, key {VARIABLE} set, one of its posting keys" in result.stdout
    assert "no account of curation.accounts reads it" not in result.stdout
    result = check(tmp_path, [node.url], curation=bridge, **{VARIABLE: OTHER_WIF})
    assert result.returncode == 1
    assert f"NOT one of {ACCOUNT}'s posting keys: replies from Discord are off" in result.stderr
