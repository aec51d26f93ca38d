"""``diag --lang fr`` when the configuration does not validate: the loader's error in French.

The config check's detail is then the ConfigError (``KEY: message``) of edge_agent.config_schema
and the other config modules. One invalid file per kind of message (wrong type, unknown key,
alias clash, required, too long, out of range, not finite, bad choice, bad list length, each
key's own wording, and the config modules' own checks): the real check runs on it, the English
detail holds the expected message, and the French one has no English left
(``i18n.untranslated``, ``english_words``). The English output stays as it was.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from edge_agent.diag.i18n import PLACEHOLDER, localise, translate, untranslated
from edge_agent.diag.i18n_fr import PHRASES
from tests.ops.test_diag_lang_fr_states import english_words, run_diag, system_text

#: a config that validates: each case adds one mistake to it
C = '[concentrator]\nurl = "sim://"\n'

CASES: dict[str, tuple[str, str]] = {
    # config_schema.py
    "wrong-type-table": ("gateway = 3\n", "gateway: must be a table, got int"),
    "wrong-type-bool": (
        '[concentrator]\nurl = "sim://"\n[regulation]\nenforce_duty_cycle = "yes"\n',
        "must be true or false, got a string",
    ),
    "wrong-type-int": (
        '[concentrator]\nurl = "sim://"\n[mqtt]\nqos = 1.5\n',
        "must be an integer, got float",
    ),
    "wrong-type-number": (
        '[concentrator]\nurl = "sim://"\ntemperature_c = "hot"\n',
        "must be a number, got a string",
    ),
    "wrong-type-string": (
        '[concentrator]\nurl = "sim://"\nfirmware_dir = true\n',
        "must be a string, got a boolean",
    ),
    "wrong-type-array": (
        '[concentrator]\nurl = "sim://"\n[concentrator.channels]\nspreading_factors = 7\n',
        "must be an array, got int",
    ),
    "wrong-type-table-array": (
        '[concentrator]\nurl = "sim://"\n[commands]\nreboot = {a = 1}\n',
        "must be an array, got a table",
    ),
    "unknown-key": (
        '[concentrator]\nurl = "sim://"\n[status]\nsockett = "/tmp/x"\n',
        "status.sockett: unknown key (allowed: socket)",
    ),
    "alias-clash": (
        (
            '[concentrator]\nurl = "sim://"\n[mqtt.filters]\n'
            "forward_crc_bad = true\nforward_crc_invalid = true\n"
        ),
        "is another name of",
    ),
    "required": (
        '[concentrator]\nurl = "sim://"\n[[backend]]\nname = "x"\n',
        "backend[0].type: is required (one of",
    ),
    "required-what": (
        '[concentrator]\nurl = "sim://"\n[[backend]]\ntype = "chirpstack"\n',
        "backend[0].name: is required (1..64",
    ),
    "too-long": (
        '[concentrator]\nurl = "sim://"\nboard = "' + "x" * 70 + '"\n',
        "must be at most 64 characters long, got 70",
    ),
    "too-short": ('[concentrator]\nurl = "sim://"\n[status]\nsocket = ""\n', "must be 1 to"),
    "too-long-default": (
        '[concentrator]\nurl = "sim://"\nfirmware_dir = "' + "x" * 4100 + '"\n',
        "must be at most 4096 characters long, got 4100",
    ),
    "range-between": (
        '[concentrator]\nurl = "sim://"\ntemperature_c = 200\n',
        "must be between -60 and 125, got 200",
    ),
    "range-greater-at-most": (
        '[gateway]\nstats_interval_s = 0\n[concentrator]\nurl = "sim://"\n',
        "must be greater than 0 and at most 86400, got 0",
    ),
    "not-finite": (
        '[concentrator]\nurl = "sim://"\ntemperature_c = nan\n',
        "must be a finite number, got nan",
    ),
    "choice-numbers": (
        '[concentrator]\nurl = "sim://"\n[mqtt]\nqos = 3\n',
        "must be 0, 1 or 2, got 3",
    ),
    "choice-strings": ('[concentrator]\nurl = "sim://"\n[log]\nlevel = "loud"\n', "must be one of"),
    "choice-what": (
        '[concentrator]\nurl = "sim://"\n[mqtt]\nmarshaler = "xml"\n',
        'must be "protobuf" or "json", got',
    ),
    "region": (
        '[concentrator]\nurl = "sim://"\nregion = "XX999"\n',
        "concentrator.region: must be one of",
    ),
    "list-length-range": (
        '[concentrator]\nurl = "sim://"\n[concentrator.channels]\nspreading_factors = []\n',
        "must list 1 to 8 items, got 0",
    ),
    "list-length-what": (
        '[concentrator]\nurl = "sim://"\n[concentrator.channels]\nmulti_sf = []\n',
        "must list exactly 8 chains, got 0",
    ),
    "list-argv": (
        '[concentrator]\nurl = "sim://"\n[commands]\nreboot = []\n',
        "must list a non-empty array of strings (argv, no shell), got 0",
    ),
    "fixed-tuple": (
        '[concentrator]\nurl = "sim://"\n[concentrator.radio_0]\nrssi_tcomp = [1, 2]\n',
        "got 2 values",
    ),
    "control-chars": (
        '[concentrator]\nurl = "sim://"\nfirmware_dir = "a\\u0007b"\n',
        "must not contain control characters, got",
    ),
    "pattern-what": (
        '[gateway]\nid = "xyz"\n[concentrator]\nurl = "sim://"\n',
        "must be 16 hexadecimal characters, got",
    ),
    "pattern-url": ('[concentrator]\nurl = "nothing"\n', "must be a URL such as"),
    "pattern-topic": (
        '[concentrator]\nurl = "sim://"\n[mqtt]\ntopic_prefix = "/eu868"\n',
        "must be a topic prefix that",
    ),
    "pattern-spool-path": (
        '[concentrator]\nurl = "sim://"\n[spool]\npath = " "\n',
        "must be a non-empty string (a file path)",
    ),
}
CASES.update(
    {
        # config.py
        "scheme": (
            '[concentrator]\nurl = "foo://x"\n',
            "unknown scheme 'foo' in 'foo://x'; expected one of",
        ),
        "gps-tty": (
            C + '[gps]\ntty = "http://x"\n',
            "must be a device path, gpsd://HOST:PORT or sim://gps, got",
        ),
        "plan-from-none": (
            '[gateway]\nchannel_plan_from = "cs"\n'
            + C
            + '[[backend]]\nname = "u"\ntype = "semtech_udp"\nserver = "udp://h:1"\n',
            "names no chirpstack backend (none)",
        ),
        "plan-from": (
            '[gateway]\nchannel_plan_from = "cs"\n' + C + '[mqtt]\nserver = "tcp://h:1"\n',
            "names no chirpstack backend (chirpstack)",
        ),
        "overrides-no-board": (
            C + "[concentrator.board_overrides]\nrssi_offset_db = 1\n",
            "needs [concentrator] board",
        ),
        "unknown-board": (C + 'board = "nope"\n', "unknown board 'nope'; known boards:"),
        "board-setting": (
            C + 'board = "rak5146"\n[concentrator.board_overrides]\nfoo = 1\n',
            "unknown board setting(s) foo; allowed:",
        ),
        "board-tcomp": (
            C + 'board = "rak5146"\n[concentrator.board_overrides]\nrssi_tcomp = [1]\n',
            "rssi_tcomp takes 5 coefficients",
        ),
        "lut-length": (
            C + "[concentrator.radio_0]\ntx_gain_lut = []\n",
            "a TX gain table has 1..16 entries, got 0",
        ),
        "lut-rising": (
            C
            + (
                "[concentrator.radio_0]\n"
                "tx_gain_lut = [{rf_power_dbm = 14, pa_gain = 0, pwr_idx = 0},\n"
                "  {rf_power_dbm = 12, pa_gain = 0, pwr_idx = 0}]\n"
            ),
            "rf_power must rise from entry to entry, got",
        ),
        "lut-pa-gain": (
            C
            + (
                "[concentrator.radio_0]\n"
                "tx_gain_lut = [{rf_power_dbm = 14, pa_gain = 5, pwr_idx = 0}]\n"
            ),
            "pa_gain must be 0..3, got 5",
        ),
        "lut-pwr-idx": (
            C
            + (
                "[concentrator.radio_0]\n"
                "tx_gain_lut = [{rf_power_dbm = 14, pa_gain = 0, pwr_idx = 40}]\n"
            ),
            "pwr_idx must be 0..22, got 40",
        ),
        # config_backends.py
        "malformed-url": (C + '[mqtt]\nserver = "tcp://[::1"\n', "malformed URL"),
        "credentials": (C + '[mqtt]\nserver = "tcp://u:p@h:1"\n', "must not contain credentials"),
        "port": (C + '[mqtt]\nserver = "tcp://h:0"\n', "port must be 1..65535, got"),
        "host-length": (
            C + '[mqtt]\nserver = "tcp://' + "h" * 300 + ':1"\n',
            "host name must be at most 253 characters",
        ),
        "mqtt-server": (
            C + '[mqtt]\nserver = "http://h:1"\n',
            "must be tcp://HOST:PORT, mqtts://HOST:PORT or ws[s]://HOST:PORT/PATH (schemes:",
        ),
        "udp-server": (
            C + '[[backend]]\nname = "u"\ntype = "semtech_udp"\nserver = "tcp://h:1"\n',
            "must be udp://HOST:PORT, got",
        ),
        "prefix-count": (
            C
            + "[mqtt.filters]\ndev_addr_prefixes = ["
            + ", ".join(['"00000000/1"'] * 1030)
            + "]\n",
            "must list at most 1024 prefixes, got 1030",
        ),
        "prefix-not-hex-bits": (
            C + '[mqtt.filters]\ndev_addr_prefixes = ["zz"]\n',
            "is not HEX/BITS (like",
        ),
        "prefix-digits": (
            C + '[mqtt.filters]\ndev_addr_prefixes = ["00/7"]\n',
            "needs 8 hex digits and 0..32 bits (like",
        ),
        "net-ids-type": (C + '[mqtt.filters]\nnet_ids = "000013"\n', "must be an array, got str"),
        "net-id": (C + '[mqtt.filters]\nnet_ids = ["zz"]\n', "must be a 24-bit NetID"),
        "reconnect": (
            C + "[mqtt]\nreconnect_min_s = 5\nreconnect_max_s = 1\n",
            "reconnect_max_s: must be at least mqtt.reconnect_min_s",
        ),
        "password-needs-username": (
            C + '[mqtt]\npassword = "x"\n',
            "mqtt.password: needs mqtt.username",
        ),
        "tls-together": (
            C + '[mqtt]\nserver = "mqtts://h:1"\ntls_cert = "/etc/hostname"\n',
            "go together",
        ),
        "tls-password-both": (
            C
            + (
                '[mqtt]\nserver = "mqtts://h:1"\ntls_cert = "/etc/hostname"\n'
                'tls_key = "/etc/hostname"\ntls_key_password = "x"\n'
                'tls_key_password_file = "/etc/hostname"\n'
            ),
            "or this key, not both",
        ),
        "tls-password-needs-key": (
            C + '[mqtt]\nserver = "mqtts://h:1"\ntls_key_password = "x"\n',
            "mqtt.tls_key_password: needs mqtt.tls_key",
        ),
        "tls-needs-mqtts": (
            C + '[mqtt]\nca_cert = "/etc/hostname"\n',
            "needs an mqtts:// server, got",
        ),
        "tls-file-not-found": (
            C + '[mqtt]\nserver = "mqtts://h:1"\nca_cert = "/nonexistent/ca.pem"\n',
            "file not found: /nonexistent/ca.pem",
        ),
        "backend-tables": (
            "backend = 3\n" + C,
            "must be [[backend]] tables (an array of tables), got int",
        ),
        "backend-empty": ("backend = []\n" + C, "got an empty array"),
        "backend-table": (C + '[backend]\nname = "x"\n', "an array of tables), got a table"),
        "backend-name-used": (
            C
            + (
                '[[backend]]\nname = "a"\ntype = "semtech_udp"\nserver = "udp://h:1"\n'
                '[[backend]]\nname = "a"\ntype = "semtech_udp"\nserver = "udp://h:1"\n'
            ),
            "'a' is already used; names must be unique",
        ),
        "backend-name-mqtt": (
            C
            + (
                '[mqtt]\nserver = "tcp://h:1"\n[[backend]]\nname = "chirpstack"\n'
                'type = "semtech_udp"\nserver = "udp://h:1"\n'
            ),
            "is already used (the [mqtt] table's backend); names must be unique",
        ),
        # spool_config.py
        "spool-size-bool": (C + "[spool]\nmax_bytes = true\n", "max_bytes: must be an integer"),
        "spool-size-unit": (
            C + '[spool]\nmax_bytes = "64 XB"\n',
            "unknown unit 'XB'; must be an integer",
        ),
        "spool-size-range": (C + "[spool]\nmax_bytes = 5\n", "(B, KiB, MiB, GiB), got 5"),
        "spool-batch": (
            C + "[spool]\ncommit_interval_ms = 70000\n",
            "must be an integer 0..60000 (milliseconds; 0 commits every uplink at once), got 70000",
        ),
    }
)


def write(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(text.replace("{tmp}", str(tmp_path)))
    config.chmod(0o640)
    return config


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_error_is_french(tmp_path: Path, case: str) -> None:
    text, expected = CASES[case]
    config = write(tmp_path, text)
    _code, english = run_diag(config, "config")
    (check,) = json.loads(english)["checks"]
    assert check["status"] == "fail"
    assert expected in check["detail"]
    import edge_agent.diag as diag

    (result,) = diag.run_checks(
        diag.DiagContext(config_path=str(config), timeout_s=1.0), ["config"]
    )
    assert [m for m in untranslated(result.detail) if not system_text(m)] == []
    assert [m for m in untranslated(result.hint) if not system_text(m)] == []
    french = localise(result, "fr")
    assert french.detail != check["detail"]
    # key names, values and lists of them are identifiers: their words are not English text
    identifiers = r"\S*[._\[\]'\"]\S*|\((?:clés|réglages) possibles : [^)]*\)|: [\w, ]+$"
    assert not english_words(re.sub(identifiers, "", french.detail)), french.detail
    assert not english_words(french.hint), french.hint
    _code, out = run_diag(config, "--lang", "fr", "config")
    assert json.loads(out)["checks"][0]["detail"] == french.detail


@pytest.mark.parametrize("case", sorted(CASES))
def test_english_config_errors_are_unchanged(tmp_path: Path, case: str) -> None:
    config = write(tmp_path, CASES[case][0])
    for json_output in (True, False):
        default = run_diag(config, "config", json_output=json_output)
        assert run_diag(config, "--lang", "en", "config", json_output=json_output) == default
    assert CASES[case][1] in default[1]


@pytest.mark.parametrize("phrase_id", sorted(PHRASES))
def test_phrase_has_the_same_placeholders(phrase_id: str) -> None:
    english, french = PHRASES[phrase_id]
    assert re.fullmatch(r"config\.[a-z0-9_]+", phrase_id)
    assert Counter(PLACEHOLDER.findall(english)) == Counter(PLACEHOLDER.findall(french))


def test_phrases_translate_only_inside_a_config_error() -> None:
    assert translate("an integer", "fr") == "an integer"
    assert translate("k: must be an integer, got a string", "fr") == (
        "k : doit être un entier, trouvé une chaîne"
    )
    assert translate("k: must be between 1 and 5, got 7", "en") == (
        "k: must be between 1 and 5, got 7"
    )
