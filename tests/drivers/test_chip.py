"""SX1302.start/fetch_rx/read_counter on a small register-file fake behind the real SpiTransport."""

from __future__ import annotations

from dataclasses import replace

import pytest

from drivers.errors import ChipNotFound, RadioError
from drivers.firmware import stand_in_images
from drivers.sim.mcu import SimMcus
from drivers.spi import SpiTransport
from drivers.sx1302.chip import SX1302
from drivers.sx1302.plan import eu868_corecell_plan
from drivers.sx1302.registers import REGISTERS
from drivers.sx1302.rx_record import RxRecord, lora_payload_crc

OTP = {**{i: b for i, b in enumerate(bytes.fromhex("0016C001FF1A08F0"))}, 0xD0: 0x00}


class FakeSx1302SpiDev:
    """py-spidev-like fake: decodes ref/sx1302.md §1 frames onto a register file.

    Registers start at the table defaults; 0x58C8/9 count and 0x4000 drains ``fifo``; OTP reads
    follow the OTP address; 0x6101.. return ``counter_reads`` in turn; SX1250 commands are logged
    and their status byte carries the mode the last SET_STANDBY/SET_RX implies.
    """

    def __init__(self) -> None:
        self.mem = bytearray(0x8000)
        for reg in REGISTERS.values():
            self.mem[reg.addr] |= (reg.default & reg.field_mask) << reg.offs
        self.fifo = bytearray()
        self.counter_reads: list[bytes] = []
        self.commands: list[tuple[int, int, bytes]] = []
        self.radio_mode = {1: 2, 2: 2}
        self.stuck_mode: dict[int, int] = {}
        self.writes: list[tuple[int, int]] = []
        self.mode = self.max_speed_hz = self.bits_per_word = None
        self.mcus = SimMcus(self.mem)  # the AGC/ARB firmware answers as on the simulator

    def open(self, bus: int, dev: int) -> None:
        pass

    def close(self) -> None:
        pass

    def xfer2(self, frame: list[int]) -> list[int]:
        mux = frame[0]
        if mux in (1, 2):
            return self._radio(mux, frame)
        addr = (frame[1] & 0x7F) << 8 | frame[2]
        if frame[1] & 0x80:
            for i, byte in enumerate(frame[3:]):
                self._write(addr + i, byte)
            return [0] * len(frame)
        n = len(frame) - 4
        return [0] * 4 + list(self._read(addr, n))

    def _write(self, addr: int, byte: int) -> None:
        self.writes.append((addr, byte))
        old, self.mem[addr] = self.mem[addr], byte
        self.mcus.on_write(addr, old, byte)
        if addr == 0x6180:
            self.mem[0x6181] = OTP.get(byte, 0)

    def _read(self, addr: int, n: int) -> bytes:
        if addr == 0x4000:
            out, self.fifo[:n] = bytes(self.fifo[:n]), b""
            return out
        if addr == 0x58C8:
            return len(self.fifo).to_bytes(2, "big")
        if addr == 0x6101 and self.counter_reads:
            return self.counter_reads.pop(0)
        return bytes(self.mem[addr : addr + n])

    def _radio(self, mux: int, frame: list[int]) -> list[int]:
        opcode, params = frame[1], bytes(frame[2:])
        self.commands.append((mux, opcode, params))
        if opcode == 0x80:
            self.radio_mode[mux] = 2 if params[0] == 0 else 3
        elif opcode == 0x82:
            self.radio_mode[mux] = 5
        status = self.stuck_mode.get(mux, self.radio_mode[mux]) << 4
        return [0, 0] + [status] + [0] * (len(frame) - 3)


@pytest.fixture
def fake() -> FakeSx1302SpiDev:
    return FakeSx1302SpiDev()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def chip(fake, sleeps) -> SX1302:
    transport = SpiTransport("spi:///dev/spidev0.0", spidev_factory=lambda: fake)
    return SX1302(transport, sleep=sleeps.append, firmware=stand_in_images())


@pytest.fixture
def started(chip, fake) -> SX1302:
    chip.start(eu868_corecell_plan())
    return chip


# --- register access ---------------------------------------------------------------------------


def test_read_reg_extracts_and_sign_extends_the_field(chip, fake) -> None:
    fake.mem[0x588E] = 0b1110_0000 | 0b11010  # FRAME_SYNCH0 SF7TO12 field [4:0] = -6
    assert chip.read_reg("RX_TOP_FRAME_SYNCH0_SF7TO12_PEAK1_POS_SF7TO12") == -6


def test_write_reg_on_a_bit_field_keeps_the_other_bits(chip, fake) -> None:
    fake.mem[0x5605] = 0b0000_0101
    chip.write_reg("COMMON_GEN_GLOBAL_EN", 1)
    assert fake.mem[0x5605] == 0b0000_1101


def test_write_reg_refuses_read_only_and_out_of_range(chip) -> None:
    with pytest.raises(ValueError, match="read-only"):
        chip.write_reg("COMMON_VERSION_VERSION", 1)
    with pytest.raises(ValueError, match="out of range"):
        chip.write_reg("COMMON_GEN_GLOBAL_EN", 2)


def test_mem_write_is_chunked_to_the_burst_limit(chip, fake) -> None:
    data = bytes(range(256)) * 9
    chip.mem_write(0x2000, data)
    assert bytes(fake.mem[0x2000 : 0x2000 + len(data)]) == data
    assert chip.mem_read(0x2000, len(data)) == data


# --- identity ----------------------------------------------------------------------------------


def test_version_model_and_eui(chip) -> None:
    assert chip.version() == 0x10
    assert chip.model() == "SX1302"
    assert chip.eui() == 0x0016C001FF1A08F0


def test_version_zero_means_chip_in_reset(chip, fake) -> None:
    fake.mem[0x5606] = 0
    with pytest.raises(ChipNotFound, match="reads 0x00: the chip is unpowered or held in reset"):
        chip.version()


def test_start_fails_on_a_chip_in_reset_before_touching_the_radios(chip, fake) -> None:
    fake.mem[0x5606] = 0
    with pytest.raises(ChipNotFound, match="check the board's reset/power GPIOs"):
        chip.start(eu868_corecell_plan())
    assert fake.commands == []


# --- start(EU868) ------------------------------------------------------------------------------


def test_if_registers_of_the_multi_sf_chains(started, fake) -> None:
    expected = [0x1C, 0xCD, 0x1E, 0x67, 0x00, 0x00, 0x1C, 0xCD]
    expected += [0x1E, 0x67, 0x00, 0x00, 0x01, 0x99, 0x03, 0x33]
    assert list(fake.mem[0x5800:0x5810]) == expected


def test_radio_select_maps_channels_0_to_2_to_radio_b(started, fake) -> None:
    assert fake.mem[0x5810] == 0x07


def test_correlators_sf_mask_and_channel_enables(started, fake) -> None:
    assert (fake.mem[0x5820], fake.mem[0x5821], fake.mem[0x5822]) == (0xFF, 0xFF, 0xFF)


def test_public_sync_word_peaks(started) -> None:
    assert started.read_reg("RX_TOP_FRAME_SYNCH0_SF7TO12_PEAK1_POS_SF7TO12") == 6
    assert started.read_reg("RX_TOP_FRAME_SYNCH1_SF7TO12_PEAK2_POS_SF7TO12") == 8
    assert started.read_reg("RX_TOP_LORA_SERVICE_FSK_FRAME_SYNCH0_PEAK1_POS") == 6


def test_lora_service_and_fsk_chains_if_and_radio(started, fake) -> None:
    assert (fake.mem[0x5B00], fake.mem[0x5B01]) == (0x1E, 0x67)  # -200 kHz
    assert started.read_reg("RX_TOP_LORA_SERVICE_FSK_LORA_SERVICE_RADIO_SEL_RADIO_SELECT") == 1
    assert (fake.mem[0x5B50], fake.mem[0x5B51]) == (0x02, 0x66)  # +300 kHz
    assert started.read_reg("RX_TOP_LORA_SERVICE_FSK_FSK_CFG_3_RADIO_SELECT") == 1
    assert (
        started.read_reg("RX_TOP_LORA_SERVICE_FSK_BIT_RATE_MSB_BIT_RATE") << 8
        | started.read_reg("RX_TOP_LORA_SERVICE_FSK_BIT_RATE_LSB_BIT_RATE")
        == 640
    )


def test_modems_legacy_timestamp_pps_and_led(started, fake) -> None:
    assert fake.mem[0x5605] & 0x0F == 0x0F
    assert started.read_reg("RX_TOP_RX_BUFFER_LEGACY_TIMESTAMP") == 1
    assert fake.mem[0x6100] & 0x03 == 0x03
    assert fake.mem[0x5643] == 0x01
    assert [fake.mem[0x5648 + i] & 0x0F for i in range(8)] == [0, 0, 9, 0, 9, 0, 0, 1]


def test_multi_sf_freq_to_time_drift_for_867_5_mhz(started) -> None:
    mant = started.read_reg("RX_TOP_FREQ_TO_TIME0_FREQ_TO_TIME_DRIFT_MANT") << 8
    mant |= started.read_reg("RX_TOP_FREQ_TO_TIME1_FREQ_TO_TIME_DRIFT_MANT")
    assert (mant, started.read_reg("RX_TOP_FREQ_TO_TIME2_FREQ_TO_TIME_DRIFT_EXP")) == (0x970, 4)


def test_host_releases_the_radios_and_clock_comes_from_radio_a(started, fake) -> None:
    assert started.read_reg("COMMON_CTRL0_HOST_RADIO_CTRL") == 0
    assert fake.mem[0x57C0] & 0x07 == 0b101


def test_sx1250_command_sequence(started, fake) -> None:
    def seq(mux: int) -> list[tuple[int, str]]:
        return [(op, params.hex()) for m, op, params in fake.commands if m == mux]

    freq = {1: "36380000", 2: "36480000"}  # 867.5 and 868.5 MHz * 2^25 / 32 MHz
    for mux in (1, 2):
        assert seq(mux) == [
            (0xC0, "00"), (0x98, "d7db"), (0x17, "000000"),  # image calibration
            (0x80, "00"), (0xC0, "00"), (0x89, "7f"), (0x80, "01"), (0xC0, "00"),
            (0x0D, "06a101"), (0x0D, "06a200"), (0x0D, "06a300"),
            (0x0D, "058200"), (0x0D, "058300"), (0x0D, "058400"), (0x0D, "058500"),
            (0x0D, "058000"), (0x0D, "08b62a"),
            (0x86, freq[mux]), (0x0D, "088f000000"), (0x82, "ffffff"), (0x0D, "05870b"),
        ]  # fmt: skip


def test_radio_a_is_set_up_before_radio_b(started, fake) -> None:
    setup = [m for m, op, _ in fake.commands if op == 0x86]
    assert setup == [1, 2]


def test_waits_go_through_the_injected_sleep(started, sleeps) -> None:
    assert sleeps.count(0.5) == 4  # two radio resets per radio
    assert 0.001 in sleeps


def test_radio_in_wrong_mode_raises_radio_error_naming_radio_and_mode(chip, fake) -> None:
    fake.stuck_mode[2] = 0
    with pytest.raises(RadioError, match=r"radio B: chip mode 0 .* after SET_STANDBY\(RC\)"):
        chip.start(eu868_corecell_plan())


def test_frequency_outside_every_image_band_is_refused(chip) -> None:
    plan = eu868_corecell_plan()
    plan = replace(plan, radios=(replace(plan.radios[0], freq_hz=600_000_000), plan.radios[1]))
    with pytest.raises(RadioError, match="no SX1250 image calibration band for 600000000 Hz"):
        chip.start(plan)


def test_private_network_sync_word(chip) -> None:
    chip.start(replace(eu868_corecell_plan(), lorawan_public=False))
    assert chip.read_reg("RX_TOP_FRAME_SYNCH0_SF7TO12_PEAK1_POS_SF7TO12") == 2
    assert chip.read_reg("RX_TOP_FRAME_SYNCH1_SF7TO12_PEAK2_POS_SF7TO12") == 4


def test_stop_turns_modems_and_led_off(started, fake) -> None:
    started.stop()
    assert (fake.mem[0x5605] & 0x08, fake.mem[0x5643]) == (0, 0)


# --- RX path -----------------------------------------------------------------------------------


def _record(payload: bytes, ts: int) -> RxRecord:
    return RxRecord(
        payload=payload, if_chain=3, sf=7, coding_rate=1, crc_en=True, modem_id=3,
        freq_offset_raw=0, crc_error=False, sync_error=False, header_error=False,
        timing_set=False, snr_raw=40, rssi_chan_raw=120, rssi_sig_raw=118, timestamp=ts,
        crc16=lora_payload_crc(payload),
    )  # fmt: skip


def test_fetch_rx_drains_the_fifo_in_1024_byte_bursts_at_0x4000(started, fake) -> None:
    records = [_record(bytes([i]) * 200, i) for i in range(12)]
    fake.fifo += b"".join(r.to_bytes() for r in records)
    fake.writes.clear()
    reads: list[tuple[int, int]] = []
    original = fake._read
    fake._read = lambda addr, n: reads.append((addr, n)) or original(addr, n)
    result = started.fetch_rx()
    assert result.records == tuple(records)
    fifo_reads = [n for addr, n in reads if addr == 0x4000]
    assert fifo_reads == [1024, 1024, 628]
    assert [addr for addr, _ in reads[:2]] == [0x58C8, 0x58C8]


def test_fetch_rx_on_an_empty_fifo_reads_only_the_count(started, fake) -> None:
    frames: list[list[int]] = []
    original = fake.xfer2
    fake.xfer2 = lambda frame: frames.append(list(frame)) or original(frame)
    assert started.fetch_rx().records == ()
    assert frames == [[0x00, 0x58, 0xC8, 0, 0, 0]]  # one SPI transaction: the count, once


def test_rx_byte_count_keeps_the_larger_of_two_reads(started, fake) -> None:
    """A read that straddles a record landing falls short (HAL workaround: read twice)."""
    answers = [b"\x00\x10", b"\x01\x10"]
    original = fake._read
    fake._read = lambda addr, n: answers.pop(0) if addr == 0x58C8 else original(addr, n)
    assert started.rx_byte_count() == 0x110
    answers[:] = [b"\x01\x10", b"\x00\x10"]
    assert started.rx_byte_count() == 0x110
    answers[:] = [b"\x00\x00", b"\x01\x10"]  # a zero is not read again: the next poll will
    assert started.rx_byte_count() == 0
    assert answers == [b"\x01\x10"]


def test_rx_byte_count_on_a_batching_transport_sends_both_reads_in_one_request() -> None:
    class Batching:
        batched_reads = True

        def __init__(self) -> None:
            self.requests: list[list[tuple[int, int, int]]] = []

        def read_many(self, requests: list[tuple[int, int, int]]) -> list[bytes]:
            self.requests.append(list(requests))
            return [b"\x00\x00", b"\x00\x17"]

    transport = Batching()
    chip = SX1302(transport, sleep=lambda s: None, firmware=stand_in_images())  # type: ignore[arg-type]
    assert chip.rx_byte_count() == 0x17
    assert transport.requests == [[(0, 0x58C8, 2), (0, 0x58C8, 2)]]


def test_fetch_rx_keeps_good_records_around_a_bad_one_and_counts_it(started, fake) -> None:
    good = [_record(b"abc", 1), _record(b"def", 2)]
    bad = bytearray(_record(b"xyz", 3).to_bytes())
    bad[-1] ^= 0xFF
    fake.fifo += good[0].to_bytes() + bad + good[1].to_bytes()
    assert started.fetch_rx().records == tuple(good)
    assert started.rx_errors["checksum"] == 1


def test_read_counter_uses_two_reads_when_msbs_agree(started, fake) -> None:
    block = (0).to_bytes(4, "big") + (32_000_000).to_bytes(4, "big")
    fake.counter_reads = [block, block, (0).to_bytes(8, "big")]
    assert started.read_counter() == 1_000_000
    assert len(fake.counter_reads) == 1


def test_read_counter_reads_a_third_time_when_an_msb_changed(started, fake) -> None:
    fake.counter_reads = [
        (0).to_bytes(4, "big") + bytes.fromhex("00ffffff"),
        (0).to_bytes(4, "big") + bytes.fromhex("01000010"),
        (0).to_bytes(4, "big") + bytes.fromhex("01000040"),
    ]
    assert started.read_counter() == 0x01000040 // 32
    assert fake.counter_reads == []


def test_expand_timestamp_uses_the_last_counter_read(started, fake) -> None:
    fake.counter_reads = [(0).to_bytes(4, "big") + (6400).to_bytes(4, "big")] * 2
    started.read_counter()
    assert started.expand_timestamp(3200) == 100


def test_start_follows_the_hal_step_order(chip, fake) -> None:
    chip.start(eu868_corecell_plan())
    order = [addr for addr, _ in fake.writes]

    def first(addr: int) -> int:
        return order.index(addr)

    def last(addr: int) -> int:
        return len(order) - 1 - order[::-1].index(addr)

    # before step 1's effects: hold both MCUs and take the radios back (a restart without reset)
    assert order[:3] == [0x5780, 0x6080, 0x5601]
    assert fake.writes[3] == (0x5643, 0x00)  # step 2: GPIOs low
    assert fake.writes[-1] == (0x5643, 0x01)  # step 22: CONFIG_DONE LED
    assert last(0x5601) < first(0x58C0)  # host releases the radios before sx1302_init
    assert last(0x5810) < first(0x5822)  # channelizer, then correlators
    assert last(0x588F) < first(0x5605)  # sync word, then modem enables
    assert last(0x5605) < first(0x6100)  # modems on before the PPS latch


def test_fetch_rx_reads_the_counter_after_the_fifo_so_new_packets_keep_their_wrap(
    started, fake
) -> None:
    # counter read at 10 s, then a packet arrives at 11 s, then the fetch: without a fresh
    # counter read the packet would look older than the read and lose 2^27 µs
    at = (0).to_bytes(4, "big")
    fake.counter_reads = [at + (320_000_000).to_bytes(4, "big")] * 2
    started.read_counter()
    record = _record(b"late", 352_000_000)
    fake.fifo += record.to_bytes()
    fake.counter_reads = [at + (352_000_032).to_bytes(4, "big")] * 2
    (got,) = started.fetch_rx().records
    assert started.expand_timestamp(got.timestamp) == 11_000_000


def test_register_names_take_the_hal_prefix_too(chip) -> None:
    assert chip.read_reg("SX1302_REG_COMMON_VERSION_VERSION") == 0x10
    with pytest.raises(ValueError, match="unknown SX1302 register 'NOPE'"):
        chip.read_reg("NOPE")


def test_multi_sf_modem_tuning_is_written(started) -> None:
    assert started.read_reg("RX_TOP_TXRX_CFG6_PREAMBLE_SYMB_NB") == 10
    assert started.read_reg("RX_TOP_MODEM_PPM_OFFSET2_PPM_OFFSET_SF11") == 1
    assert started.read_reg("RX_TOP_MODEM_PPM_OFFSET2_PPM_OFFSET_SF10") == 0
    assert started.read_reg("ARB_MCU_CHANNEL_SYNC_OFFSET_23_CHANNEL_3_OFFSET") == 13
    assert started.read_reg("RX_TOP_SF12_CFG2_ACC_PNR") == 52


def test_lora_service_modem_for_sf7_bw250(started) -> None:
    p = "RX_TOP_LORA_SERVICE_FSK_"
    assert started.read_reg(f"{p}TXRX_CFG0_MODEM_SF") == 7
    assert started.read_reg(f"{p}TXRX_CFG0_MODEM_BW") == 5
    assert started.read_reg(f"{p}TXRX_CFG6_PREAMBLE_SYMB_NB") == 8
    assert started.read_reg(f"{p}TXRX_CFG1_MODEM_EN") == 1
