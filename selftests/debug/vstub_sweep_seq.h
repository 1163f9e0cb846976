/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vstub_sweep_seq.h - the sequences the fail-nth sweep (vstub_sweep.c) runs
 * under injection, the state they share (struct ctx) and the raw generic
 * netlink they use.  Included once, by vstub_sweep.c, after its constants.
 */
#ifndef _VSTUB_SWEEP_SEQ_H
#define _VSTUB_SWEEP_SEQ_H

/* ---- the state of one sequence, closed by ctx_cleanup() ---- */

/*
 * vfio_ops' fragmented MAP_DMA: FRAG_PAGES pages none of which is next to
 * another (runs past the first run array, a scatterlist), built once with
 * injection off (frag_build(), from the fixture) so that the sweep spends
 * its runs on MAP_DMA, not on mremap().
 */
#define FRAG_PAGES	20
static uint8_t *frag, *frag_src;

static void frag_free(void)
{
	if (frag)
		munmap(frag, FRAG_PAGES * 4096);
	if (frag_src)
		munmap(frag_src, 2 * FRAG_PAGES * 4096);
	frag = frag_src = NULL;
}

static int frag_build(void)
{
	int i;

	frag_src = mmap(NULL, 2 * FRAG_PAGES * 4096, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	frag = mmap(NULL, FRAG_PAGES * 4096, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (frag_src == MAP_FAILED || frag == MAP_FAILED) {
		if (frag_src == MAP_FAILED)
			frag_src = NULL;
		if (frag == MAP_FAILED)
			frag = NULL;
		frag_free();
		return -ENOMEM;
	}
	for (i = 0; i < FRAG_PAGES; i++)
		if (mremap(frag_src + 2 * i * 4096, 4096, 4096,
			   MREMAP_MAYMOVE | MREMAP_FIXED,
			   frag + i * 4096) == MAP_FAILED) {
			frag_free();
			return -errno;
		}
	return 0;
}

struct ctx {
	struct vfio_ctx v;
	/* vfio_ops, vfio_msix: the device stays open across runs */
	struct vfio_ctx pv;
	const char *pv_bdf;
	void *buf, *huge;
	size_t huge_len;
	int efd[2];
	int nl;
	uint16_t family;
	uint32_t seq;
	bool reset;
	unsigned int nth;	/* of the run */
	const char *step;	/* the step that is running */
	bool netlink_step;
	bool socket_step;
	/* ID add succeeded, its capture did not (logged, as with new_id) */
	bool id_capture_failed;
	char edu[32], nic[32], nvme[32], testdev[32];
};

static void ctx_cleanup(struct ctx *c)
{
	vfio_ctx_close(&c->v);
	if (c->buf)
		munmap(c->buf, 4096);
	if (c->huge)
		munmap(c->huge, c->huge_len);
	c->buf = c->huge = NULL;
	for (int i = 0; i < 2; i++) {
		if (c->efd[i] >= 0)
			close(c->efd[i]);
		c->efd[i] = -1;
	}
	if (c->nl >= 0)
		close(c->nl);
	c->nl = -1;
}

#define STEP(c, name, expr) do {				\
	int __r;						\
	(c)->step = (name);					\
	__r = (expr);						\
	if (__r < 0)						\
		return __r;					\
} while (0)

static int neg_errno(long r)
{
	return r < 0 ? -errno : (int)r;
}

/* ---- raw generic netlink, no library: every allocation is the kernel's */

/* Touched before the sweep: no page fault of ours in a run. */
static char nl_buf[65536];

struct nlreq {
	struct nlmsghdr n;
	struct genlmsghdr g;
	char attrs[256];
};

static void nl_put(struct nlreq *r, uint16_t type, const void *data,
		   uint16_t len)
{
	struct nlattr *a = (void *)((char *)r + NLMSG_ALIGN(r->n.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->n.nlmsg_len = NLMSG_ALIGN(r->n.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void nl_put_str(struct nlreq *r, uint16_t type, const char *s)
{
	nl_put(r, type, s, strlen(s) + 1);
}

/*
 * Send one request and read until its ack (or NLMSG_DONE of a dump).
 * Returns 0, -errno from the kernel, -EAGAIN when no answer came.
 * @family_out: for CTRL_CMD_GETFAMILY, the family's ID.
 */
static int nl_talk(struct ctx *c, struct nlreq *r, uint16_t type, uint8_t cmd,
		   bool dump, uint16_t *family_out)
{
	char *buf = nl_buf;
	uint32_t seq = ++c->seq;
	int err = 1;

	r->n.nlmsg_type = type;
	r->n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (dump ? NLM_F_DUMP : 0);
	r->n.nlmsg_seq = seq;
	r->g.cmd = cmd;
	r->g.version = 1;
	if (send(c->nl, r, r->n.nlmsg_len, 0) < 0)
		return -errno;
	while (err > 0) {
		struct pollfd p = { .fd = c->nl, .events = POLLIN };
		struct nlmsghdr *h;
		ssize_t n;

		if (poll(&p, 1, NL_TIMEOUT_MS) <= 0)
			return -EAGAIN;
		n = recv(c->nl, buf, sizeof(nl_buf), 0);
		if (n < 0)
			return -errno;
		for (h = (void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				break;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				err = *(int *)NLMSG_DATA(h);
				break;
			}
			if (family_out) {
				struct genlmsghdr *g = NLMSG_DATA(h);
				struct nlattr *a = (void *)((char *)g + GENL_HDRLEN);
				int len = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

				while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
				       a->nla_len <= len) {
					if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID)
						*family_out = *(uint16_t *)((char *)a + NLA_HDRLEN);
					len -= NLA_ALIGN(a->nla_len);
					a = (void *)((char *)a + NLA_ALIGN(a->nla_len));
				}
			}
		}
	}
	return err;
}

static void nl_init(struct nlreq *r)
{
	memset(r, 0, sizeof(*r));
	r->n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
}

static int nl_open(struct ctx *c)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nlreq r;
	int ret;

	c->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (c->nl < 0) {
		c->socket_step = true;
		return -errno;
	}
	if (bind(c->nl, (void *)&sa, sizeof(sa)))
		return -errno;
	nl_init(&r);
	nl_put_str(&r, CTRL_ATTR_FAMILY_NAME, VSTUB_GENL_NAME);
	c->family = 0;
	ret = nl_talk(c, &r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, false, &c->family);
	if (!ret && !c->family)
		ret = -ENOENT;
	return ret;
}

static int nl_cmd(struct ctx *c, uint8_t cmd, bool dump, uint16_t attr,
		  const char *str, int num_vfs)
{
	struct nlreq r;

	nl_init(&r);
	if (attr)
		nl_put_str(&r, attr, str);
	if (num_vfs >= 0) {
		uint32_t n = num_vfs;

		nl_put(&r, VSTUB_A_NUM_VFS, &n, sizeof(n));
	}
	return nl_talk(c, &r, c->family, cmd, dump, NULL);
}

/* ---- the sequences ---- */

/* Opening and closing: container, group, device, as a user does it. */
static int seq_vfio_open(struct ctx *c)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_ctx *v = &c->v;
	int type = VFIO_TYPE1v2_IOMMU;

	STEP(c, "open container", vfio_open_container(v, VSTUB_NODE_DIR));
	STEP(c, "GET_API_VERSION", neg_errno(ioctl(v->container, VFIO_GET_API_VERSION)));
	STEP(c, "CHECK_EXTENSION", neg_errno(ioctl(v->container, VFIO_CHECK_EXTENSION, type)));
	STEP(c, "open group", vfio_open_group(v, VSTUB_NODE_DIR, c->edu));
	STEP(c, "SET_CONTAINER", neg_errno(ioctl(v->group, VFIO_GROUP_SET_CONTAINER,
						&v->container)));
	STEP(c, "SET_IOMMU", neg_errno(ioctl(v->container, VFIO_SET_IOMMU, type)));
	STEP(c, "GET_DEVICE_FD", v->device = neg_errno(ioctl(v->group,
				VFIO_GROUP_GET_DEVICE_FD, c->edu)));
	STEP(c, "GET_INFO", neg_errno(ioctl(v->device, VFIO_DEVICE_GET_INFO, &info)));
	c->step = "close";
	vfio_ctx_close(v);
	return 0;
}

/*
 * The device fd's and the container's operations on edu, opened once
 * before the sweep (seq_prepare): region info, BAR mmap, MAP_DMA of 4 KiB,
 * of a 2 MiB huge page and of pages none of which is next to another (a
 * run array and a scatterlist), MSI on and off, reset when offered, UNMAP.
 */
static int seq_vfio_ops(struct ctx *c)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	struct vfio_ctx *v = &c->pv;
	uint8_t *bar = NULL;
	size_t bar_size = 0;
	/*
	 * A fresh 4 MiB of IOVA each run: the IOMMU never frees page tables
	 * on unmap, so reused IOVAs would never again reach iommu_map()'s
	 * allocations.
	 */
	uint64_t iova = (uint64_t)(1 + c->nth % 200) << 22;
	int64_t n;

	STEP(c, "GET_INFO", neg_errno(ioctl(v->device, VFIO_DEVICE_GET_INFO, &info)));
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	STEP(c, "GET_REGION_INFO", neg_errno(ioctl(v->device,
				VFIO_DEVICE_GET_REGION_INFO, &ri)));
	STEP(c, "BAR mmap", vfio_mmap_bar(v->device, 0, &bar, &bar_size));
	c->v.bar0 = bar;	/* unmapped by ctx_cleanup() */
	c->v.bar0_size = bar_size;
	c->step = "BAR access";
	(void)edu_read(bar, EDU_REG_ID);

	c->step = "mmap 4 KiB";
	c->buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c->buf == MAP_FAILED) {
		c->buf = NULL;
		return -errno;
	}
	STEP(c, "MAP_DMA 4 KiB", vfio_map(v->container, c->buf, iova,
					 4096, VFIO_RW));
	c->step = "mmap huge page";
	c->huge_len = HUGE_SZ;
	c->huge = mmap(NULL, HUGE_SZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (c->huge == MAP_FAILED) {
		c->huge = NULL;
		return -errno;
	}
	STEP(c, "MAP_DMA 2 MiB huge page", vfio_map(v->container, c->huge,
						   iova + HUGE_SZ, HUGE_SZ, VFIO_RW));

	STEP(c, "MAP_DMA fragmented", vfio_map(v->container, frag,
					      iova + 16 * 4096,
					      FRAG_PAGES * 4096, VFIO_RW));

	c->step = "eventfd";
	c->efd[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->efd[0] < 0)
		return -errno;
	STEP(c, "SET_IRQS MSI", vfio_irq_set_fds(v->device,
			VFIO_PCI_MSI_IRQ_INDEX, 0, 1, c->efd));
	STEP(c, "SET_IRQS MSI off", vfio_irq_set_none(v->device,
			VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	if (info.flags & VFIO_DEVICE_FLAGS_RESET)
		STEP(c, "RESET", neg_errno(ioctl(v->device, VFIO_DEVICE_RESET)));

	c->step = "UNMAP_DMA 4 KiB";
	n = vfio_unmap(v->container, iova, 4096, 0);
	if (n < 0)
		return n;
	c->step = "UNMAP_DMA fragmented";
	n = vfio_unmap(v->container, iova + 16 * 4096, FRAG_PAGES * 4096, 0);
	if (n < 0)
		return n;
	c->step = "UNMAP_DMA 2 MiB";
	n = vfio_unmap(v->container, iova + HUGE_SZ, HUGE_SZ, 0);
	return n < 0 ? n : 0;
}

/* MSI-X on e1000e (opened once before the sweep): two vectors, off, reset. */
static int seq_vfio_msix(struct ctx *c)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_ctx *v = &c->pv;

	STEP(c, "GET_INFO", neg_errno(ioctl(v->device, VFIO_DEVICE_GET_INFO, &info)));
	c->step = "eventfd";
	for (int i = 0; i < 2; i++) {
		c->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (c->efd[i] < 0)
			return -errno;
	}
	STEP(c, "SET_IRQS MSI-X", vfio_irq_set_fds(v->device,
			VFIO_PCI_MSIX_IRQ_INDEX, 0, 2, c->efd));
	STEP(c, "SET_IRQS MSI-X loopback", vfio_irq_set_none(v->device,
			VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 2));
	STEP(c, "SET_IRQS MSI-X off", vfio_irq_set_none(v->device,
			VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	if (info.flags & VFIO_DEVICE_FLAGS_RESET)
		STEP(c, "RESET", neg_errno(ioctl(v->device, VFIO_DEVICE_RESET)));
	return 0;
}

/* After a run of the persistent-device sequences: nothing left behind. */
static void pv_restore(struct ctx *c)
{
	struct vfio_ctx *v = &c->pv;

	if (v->device < 0)
		return;
	vfio_irq_set_none(v->device, VFIO_PCI_MSI_IRQ_INDEX,
			  VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0);
	vfio_irq_set_none(v->device, VFIO_PCI_MSIX_IRQ_INDEX,
			  VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0);
	vfio_unmap(v->container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL);
}

/* Open the persistent device of vfio_ops / vfio_msix (injection off). */
static int pv_open(struct ctx *c)
{
	vfio_ctx_init(&c->pv);
	if (!c->pv_bdf)
		return 0;
	return vfio_open_device(&c->pv, VSTUB_NODE_DIR, c->pv_bdf,
				VFIO_TYPE1v2_IOMMU);
}

static int seq_netlink(struct ctx *c)
{
	const char *id = "1b36:0005", *bdf = c->testdev;
	int ret;

	c->netlink_step = true;
	STEP(c, "netlink socket, resolve family", nl_open(c));
	STEP(c, "ID_ADD", nl_cmd(c, VSTUB_CMD_ID_ADD, false, VSTUB_A_ID, id, -1));
	STEP(c, "ID_GET", nl_cmd(c, VSTUB_CMD_ID_GET, true, 0, NULL, -1));
	STEP(c, "DEV_GET dump", nl_cmd(c, VSTUB_CMD_DEV_GET, true, 0, NULL, -1));
	STEP(c, "DEV_GET", nl_cmd(c, VSTUB_CMD_DEV_GET, false, VSTUB_A_BDF, bdf, -1));
	STEP(c, "STATUS_GET", nl_cmd(c, VSTUB_CMD_STATUS_GET, false, 0, NULL, -1));
	STEP(c, "GROUP_GET", nl_cmd(c, VSTUB_CMD_GROUP_GET, false, VSTUB_A_BDF, bdf, -1));
	STEP(c, "ID_DEL", nl_cmd(c, VSTUB_CMD_ID_DEL, false, VSTUB_A_ID, id, -1));
	/*
	 * EINVAL (not captured): the ID's capture failed, which the log must
	 * say (checked after the run: no syscall here that is not vstub's).
	 */
	c->step = "RELEASE";
	ret = nl_cmd(c, VSTUB_CMD_RELEASE, false, VSTUB_A_BDF, bdf, -1);
	if (ret == -EINVAL)
		c->id_capture_failed = true;
	else if (ret < 0)
		return ret;
	STEP(c, "CAPTURE", nl_cmd(c, VSTUB_CMD_CAPTURE, false, VSTUB_A_BDF, bdf, -1));
	STEP(c, "RELEASE", nl_cmd(c, VSTUB_CMD_RELEASE, false, VSTUB_A_BDF, bdf, -1));
	return 0;
}

static int seq_sysfs(struct ctx *c)
{
	int ret;

	STEP(c, "sysfs id_add", vstub_write("id_add", "1b36:0005"));
	STEP(c, "sysfs ids", vstub_read("ids", (char[512]){ 0 }, 512));
	STEP(c, "sysfs id_del", vstub_write("id_del", "1b36:0005"));
	c->step = "sysfs release";
	ret = vstub_write("release", c->testdev);
	if (ret == -EINVAL)
		c->id_capture_failed = true;	/* as in seq_netlink() */
	else if (ret < 0)
		return ret;
	STEP(c, "sysfs capture", vstub_write("capture", c->testdev));
	STEP(c, "sysfs captured", vstub_read("captured", (char[4096]){ 0 }, 4096));
	STEP(c, "sysfs release", vstub_write("release", c->testdev));
	return 0;
}

/*
 * SR-IOV: the VFs (captured by vstub as they appear) are created before
 * each run, outside injection (sriov_prepare()): a failed allocation of a
 * VF's name in the PCI core's pci_iov_add_virtfn() leaves the PF broken
 * (a WARN in pci_device_add(), then "kernel BUG at drivers/pci/iov.c" at
 * the next enable), whoever the driver.  Under injection: listing them and
 * removing them, which releases them from vstub.
 */
static int seq_sriov(struct ctx *c)
{
	c->netlink_step = true;
	STEP(c, "netlink socket, resolve family", nl_open(c));
	STEP(c, "DEV_GET dump", nl_cmd(c, VSTUB_CMD_DEV_GET, true, 0, NULL, -1));
	STEP(c, "SRIOV_SET 0", nl_cmd(c, VSTUB_CMD_SRIOV_SET, false, VSTUB_A_BDF,
				      c->nvme, 0));
	return 0;
}

static int sriov_prepare(struct ctx *c)
{
	struct ctx n = { .nl = -1, .efd = { -1, -1 } };

	vfio_ctx_init(&n.v);	/* no fd 0 closed by ctx_cleanup() */
	vfio_ctx_init(&n.pv);
	int ret;

	ret = nl_open(&n);
	if (!ret)
		ret = nl_cmd(&n, VSTUB_CMD_SRIOV_SET, false, VSTUB_A_BDF,
			     c->nvme, 2);
	ctx_cleanup(&n);
	return ret;
}

#endif /* _VSTUB_SWEEP_SEQ_H */
