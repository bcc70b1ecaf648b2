/*
 * lwIP options for hvmon's management NIC (docs/NETWORK.md): NO_SYS=1, raw
 * API, IPv4 + ARP + ICMP (echo) + UDP + DHCP. No TCP, no DNS, no IPv6, no
 * sockets/netconn, no fragmentation/reassembly (hvmon's datagrams fit the
 * MTU; fragments are dropped and counted). All memory is static (lwIP's own
 * heap and pools in bss): no malloc in ring -1.
 */
#ifndef HVMON_LWIPOPTS_H
#define HVMON_LWIPOPTS_H

#define NO_SYS                      1
#define SYS_LIGHTWEIGHT_PROT        0      /* single-threaded: polled from the tick */
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0
#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_ICMP                   1
#define LWIP_RAW                    0
#define LWIP_UDP                    1
#define LWIP_TCP                    0
#define LWIP_DHCP                   1
#define LWIP_AUTOIP                 0
#define LWIP_IGMP                   0
#define LWIP_DNS                    0
#define IP_REASSEMBLY               0
#define IP_FRAG                     0
#define DHCP_DOES_ARP_CHECK         0      /* no 2 s wait before using the lease */
#define LWIP_NETIF_STATUS_CALLBACK  1
#define LWIP_NETIF_LINK_CALLBACK    1
#define LWIP_SINGLE_NETIF           1      /* hvmon has one NIC */
#define ETHARP_SUPPORT_STATIC_ENTRIES 1

#define MEM_ALIGNMENT               8
#define MEM_SIZE                    (64 * 1024)
#define MEMP_NUM_PBUF               32
#define MEMP_NUM_UDP_PCB            4
#define MEMP_NUM_SYS_TIMEOUT        8
#define PBUF_POOL_SIZE              32
#define PBUF_POOL_BUFSIZE           1536
#define ARP_TABLE_SIZE              8
#define ARP_QUEUEING                1
#define MEMP_NUM_ARP_QUEUE          16
#define ARP_QUEUE_LEN               16     /* lwIP default 3: a 4th datagram sent while resolving dropped the oldest */

#define LWIP_STATS                  1      /* counters: the only thing a bad frame may change */
#define LWIP_STATS_DISPLAY          0
#define LWIP_DEBUG                  0

/* Issue 16: lwIP does not compute UDP checksums; hvmon's netif output does,
 * or has the NIC do it (e1000 TCP/IP context + data descriptors, POPTS.TXSM):
 * hvnet_udp_csum_prep() in drivers/net/hvnet.c. The IP header checksum stays
 * lwIP's (20 bytes). */
#define CHECKSUM_GEN_UDP            0

#ifdef HV_LWIP_FUZZ
/* host fuzz build: accept bad checksums so the fuzzer reaches the parsers */
#define CHECKSUM_CHECK_IP           0
#define CHECKSUM_CHECK_UDP          0
#define CHECKSUM_CHECK_ICMP         0
#endif

/* randomness (DHCP xid, UDP ports): hvmon supplies it (RDRAND/TSC mix) */
#include <stdint.h>
uint32_t hv_lwip_rand(void);
#define LWIP_RAND()                 hv_lwip_rand()

#endif
