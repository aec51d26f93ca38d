"""Errors raised by the hardware layer.

    DriverError
     ├── TransportError                 the bus failed (SPI ioctl, serial port, MCU framing)
     │    ├── TransportTimeout (+TimeoutError)
     │    ├── DeviceBusy                  another process holds the device's lock (drivers.lock)
     │    └── UnknownTransportError (+ValueError)   unknown URL scheme or package missing
     ├── ChipError                      the chip answered, but not as it should
     │    ├── ChipNotFound              version register reads 0x00/0xFF: unpowered or held in reset
     │    ├── HandshakeTimeout (+TimeoutError)   a firmware or radio wait did not complete in time
     │    ├── FirmwareError             missing/wrong image, bad read-back, version, parity
     │    └── RadioError                an SX1250 command failed or reported a device error
     ├── RxDataError (+ValueError)      malformed RX FIFO data (counted and skipped, never fatal)
     ├── TxError                        a downlink could not be programmed
     └── SensorError                    temperature sensor, GPIO line or GPS device failed

Errors marked ``retryable = True`` are worth a retry with backoff (a bus glitch, a chip that is
still coming out of reset); the others need an operator.
"""

from __future__ import annotations


class DriverError(Exception):
    """Root of every error raised by ``drivers``."""

    retryable = False


class TransportError(DriverError):
    """The bus to the concentrator failed."""

    retryable = True


class TransportTimeout(TransportError, TimeoutError):
    """The bus did not answer in time."""


class DeviceBusy(TransportError):
    """Another process holds the concentrator device's lock (``drivers.lock``)."""


class UnknownTransportError(DriverError, ValueError):
    """No transport for this URL, or the package it needs is not installed."""


class ChipError(DriverError):
    """The chip answered, but not as its documented behaviour says it must."""


class ChipNotFound(ChipError):
    """The version register reads 0x00: the chip is unpowered or held in reset."""

    retryable = True


class HandshakeTimeout(ChipError, TimeoutError):
    """A firmware mailbox or radio state wait did not complete in time."""

    retryable = True


class FirmwareError(ChipError):
    """A firmware image is missing or wrong, or its load did not verify."""


class RadioError(ChipError):
    """An SX1250 radio command failed."""

    retryable = True


class RxDataError(DriverError, ValueError):
    """Malformed data in the RX FIFO."""


class TxError(DriverError):
    """A transmission could not be programmed."""


class SensorError(DriverError):
    """A sensor, GPIO line or GPS device failed."""

    retryable = True
