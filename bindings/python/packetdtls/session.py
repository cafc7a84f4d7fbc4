# packetdtls.session — DTLSSession over dtls_session_* (beyond Godot).
"""A client's saved DTLS session, for an abbreviated handshake (resumption) later."""

from __future__ import annotations

from ._common import HandleOwner
from ._library import lib

__all__ = ["DTLSSession"]


class DTLSSession(HandleOwner):
    """A saved session: the master secret and the server's ticket. Get one from a CONNECTED client
    with ``PacketPeerDTLS.get_session()`` and offer it on a later connection with ``set_session()``
    before ``connect_to_peer``; ``is_session_resumed()`` then says whether the server took it.

    It holds a secret: the library zeroizes it when the last reference goes (``close()`` or garbage
    collection). ``DTLSSession()`` is an empty session, which offers nothing.
    """

    _free_name = "dtls_session_free"

    def __init__(self) -> None:
        super().__init__(lib.dtls_session_new())
