"""Side doors of issue 20 seen from Python: fork safety of the random generator."""

from __future__ import annotations

import os

import pytest

from packetdtls import Crypto


def _draw() -> bytes:
    crypto = Crypto()
    key = crypto.generate_ec_p256()
    assert key is not None
    return crypto.generate_random_bytes(32) + key.save_to_string(True).encode()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_draws_other_random_bytes_and_keys():
    parent_before = _draw()  # the generator is in use before the fork, as in a forking server
    for _ in range(2):
        reader, writer = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            try:
                os.write(writer, _draw())
            finally:
                os._exit(0)
        os.close(writer)
        mine = _draw()
        chunks = []
        while chunk := os.read(reader, 4096):
            chunks.append(chunk)
        os.close(reader)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        theirs = b"".join(chunks)
        assert len(theirs) == len(mine)
        assert theirs[:32] != mine[:32], "parent and child drew the same random bytes"
        assert theirs[32:] != mine[32:], "parent and child generated the same key"
        assert parent_before != mine
