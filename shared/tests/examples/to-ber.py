"""Re-frames a DER file as BER the way Java and Windows write PKCS#12:
indefinite lengths on every constructed element and long OCTET STRINGs
split into 64-byte pieces. The bytes inside OCTET STRINGs are left alone,
so a PKCS#12 MAC still holds. Usage: python3 to-ber.py IN.der > OUT.ber"""
import sys

def read(b, i):
    tag = b[i]; i += 1
    n = b[i]; i += 1
    if n & 0x80:
        k = n & 0x7f
        n = int.from_bytes(b[i:i + k], "big"); i += k
    return tag, b[i:i + n], i + n

def ber(b):
    out = bytearray(); i = 0
    while i < len(b):
        tag, content, i = read(b, i)
        if tag in (0x04, 0x80) and len(content) > 64:
            chunks = b"".join(bytes([0x04]) + der_len(len(c)) + c
                              for c in (content[j:j + 64] for j in range(0, len(content), 64)))
            out += bytes([tag | 0x20, 0x80]) + chunks + b"\0\0"
        elif tag & 0x20:
            out += bytes([tag, 0x80]) + ber(content) + b"\0\0"
        else:
            out += bytes([tag]) + der_len(len(content)) + content
    return bytes(out)

def der_len(n):
    if n < 0x80:
        return bytes([n])
    k = (n.bit_length() + 7) // 8
    return bytes([0x80 | k]) + n.to_bytes(k, "big")

sys.stdout.buffer.write(ber(open(sys.argv[1], "rb").read()))
