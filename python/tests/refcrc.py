# SPDX-License-Identifier: MIT
"""Bit-at-a-time CRCs from their definitions, to check the library's
against something that is not the library."""


def crc16_t10dif(data, crc=0):
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8BB7) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def _reflected(poly, width):
    mask = (1 << width) - 1
    rpoly = int("{:0{w}b}".format(poly, w=width)[::-1], 2)

    def crc(data, c=0):
        c ^= mask
        for b in data:
            c ^= b
            for _ in range(8):
                c = (c >> 1) ^ rpoly if c & 1 else c >> 1
        return c ^ mask
    return crc


crc32c = _reflected(0x1EDC6F41, 32)
crc64_nvme = _reflected(0xAD93D23594C93659, 64)
