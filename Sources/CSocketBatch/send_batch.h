/* CSocketBatch/send_batch.h: many datagrams out in one system call (sendmmsg(2)): a UDPServer's send
 * batching (Sources/PacketDTLS/UDP/SendBatch.swift) and the front door's batched HelloVerifyRequests
 * (Sources/PacketDTLS/UDP/ReplyBatch.swift).
 *
 * As with recvmmsg in shim.h, Glibc declares sendmmsg only under _GNU_SOURCE, which Swift's Glibc
 * module is not built with: the call goes through syscall(2) with shim.h's header type (the layout of
 * the kernel's struct mmsghdr). Each datagram may carry its own source address (an IP_PKTINFO /
 * IPV6_PKTINFO control message written by packetdtls_set_reply_source). Included at the end of
 * shim.h, whose types it uses: the module map names shim.h alone. MSG_* flags are named here, not in
 * Swift: a Swift file that imports this module and names one makes it vanish from files that import
 * only Glibc. */
#ifndef PACKETDTLS_CSOCKETBATCH_SEND_BATCH_H
#define PACKETDTLS_CSOCKETBATCH_SEND_BATCH_H

/* Sends up to `count` datagrams, each its header's, in one system call; returns how many were sent
 * (the first ones: a failure stops the batch there), or -1 with errno set when the first failed. */
static inline int packetdtls_sendmmsg(int fd, struct packetdtls_mmsghdr *headers, unsigned int count, int flags) {
    return (int)syscall(SYS_sendmmsg, fd, headers, count, flags);
}

/* One queued datagram of a send batch: its bytes in the batch's arena, where it goes and where from. */
struct packetdtls_send_slot {
    struct sockaddr_storage to;
    socklen_t to_length;
    struct packetdtls_local_address from; /* family 0: the kernel chooses */
    size_t offset;                        /* into the arena */
    size_t length;
};

/* The system-call side of a batch: headers, vectors and control space for `capacity` datagrams. */
struct packetdtls_send_space {
    struct packetdtls_mmsghdr *headers;
    struct iovec *vectors;
    char *controls; /* PACKETDTLS_CONTROL_SPACE bytes per datagram, aligned as struct cmsghdr */
};

/* Sends slots[0..<count] (count <= the space's capacity, at most 1024, the kernel's UIO_MAXIOV) in one
 * sendmmsg with MSG_NOSIGNAL. Returns how many left (the first ones, in order), or -1 with errno set
 * when the first failed. */
static inline int packetdtls_sendmmsg_slots(int fd, unsigned char *arena, struct packetdtls_send_slot *slots,
                                            unsigned int count, struct packetdtls_send_space space) {
    for (unsigned int i = 0; i < count; i++) {
        struct packetdtls_mmsghdr *header = &space.headers[i];
        __builtin_memset(header, 0, sizeof *header);
        space.vectors[i].iov_base = arena + slots[i].offset;
        space.vectors[i].iov_len = slots[i].length;
        header->msg_hdr.msg_name = &slots[i].to;
        header->msg_hdr.msg_namelen = slots[i].to_length;
        header->msg_hdr.msg_iov = &space.vectors[i];
        header->msg_hdr.msg_iovlen = 1;
        packetdtls_set_reply_source(&header->msg_hdr, space.controls + (size_t)i * PACKETDTLS_CONTROL_SPACE,
                                    &slots[i].from);
    }
    return packetdtls_sendmmsg(fd, space.headers, count, MSG_NOSIGNAL);
}

#endif
