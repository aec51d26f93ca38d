"""Board vendors' TX gain tables: the facts from their files, and the HAL's limits."""

from __future__ import annotations

import pytest

from drivers.boards import board_names, board_preset
from drivers.sx1302.plan import TxGain, eu868_corecell_plan
from drivers.tx_gain_tables import VENDOR_TABLES, validate_lut, vendor_table


def _entry(table, dbm: int) -> tuple[int, int]:
    (entry,) = [e for e in table.entries if e.rf_power_dbm == dbm]
    return entry.pa_gain, entry.pwr_idx


def test_rak_eu868_16_dbm_is_pa_gain_1_index_8() -> None:
    # RAKWireless rak_common_for_gateway lora/rak2287/global_conf_*/global_conf.eu_863_870.json
    table = board_preset("rak2287").tx_gain_table("EU868")
    assert _entry(table, 16) == (1, 8)
    assert {e.pa_gain for e in table.entries} == {1}
    assert board_preset("rak5146").tx_gain_table("EU868") == table


def test_rak_us915_uses_its_own_indices() -> None:
    table = board_preset("rak2287").tx_gain_table("US915")
    assert (_entry(table, 12), _entry(table, 27)) == ((1, 6), (1, 22))


def test_semtech_corecell_keeps_the_reference_table() -> None:
    table = board_preset("semtech_corecell").tx_gain_table("EU868")
    assert table.entries == eu868_corecell_plan().radios[0].tx_gain_lut
    assert _entry(table, 16) == (0, 20)


def test_dragino_eu868_is_pa_gain_1_up_to_index_20() -> None:
    table = board_preset("dragino_pg1302").tx_gain_table("EU868")
    assert (_entry(table, 16), _entry(table, 27)) == ((1, 8), (1, 20))


def test_tables_carry_the_vendors_entries_below_12_dbm() -> None:
    cn470 = board_preset("rak2287").tx_gain_table("CN470")
    assert [e.rf_power_dbm for e in cn470.entries][:7] == [-6, -3, 0, 3, 6, 10, 11]
    assert board_preset("semtech_corecell_usb").tx_gain_table("AS923").lowest_dbm == 0


@pytest.mark.parametrize("name", board_names())
def test_every_board_has_a_table_for_the_regions_we_ship(name: str) -> None:
    board = board_preset(name)
    for region in ("EU868", "US915"):
        table = board.tx_gain_table(region)
        assert table is not None and table.source
        validate_lut(table.entries)


def test_every_vendor_table_is_valid_and_cites_a_file() -> None:
    for tables in VENDOR_TABLES.values():
        for table in tables.values():
            validate_lut(table.entries)
            assert "/" in table.source


def test_a_vendor_without_a_region_has_no_table() -> None:
    assert vendor_table("semtech", "KR920") is None
    with pytest.raises(ValueError, match="unknown TX gain table vendor"):
        vendor_table("nobody", "EU868")


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ((), "1..16 entries"),
        (tuple(TxGain(p, 0, 1) for p in range(17)), "1..16 entries"),
        ((TxGain(12, 4, 1),), "pa_gain must be 0..3"),
        ((TxGain(12, 0, 23),), "pwr_idx must be 0..22"),
        ((TxGain(14, 0, 1), TxGain(12, 0, 2)), "must rise"),
        ((TxGain(12, 0, 1), TxGain(12, 0, 2)), "must rise"),
    ],
)
def test_validate_lut_refuses_what_the_hal_refuses(entries, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_lut(entries)


def test_describe_reads_like_the_table() -> None:
    table = board_preset("rak2287").tx_gain_table("EU868")
    assert table.describe().startswith("12 dBm PA1/4, 13 dBm PA1/5, ")
