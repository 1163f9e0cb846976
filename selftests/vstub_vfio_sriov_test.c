// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_vfio_sriov_test - the SR-IOV VF token, checked against vstub and,
 * as the reference, against the in-kernel vfio-pci in the same guest (the
 * vfio_pci variants; skipped where vfio-pci cannot attach).  The PF is the
 * NVMe controller (sriov_max_vfs=2), one VF is created.
 *
 * The rules of the kernel's own vfio_pci_sriov_uapi_test (fixture "tok",
 * one variant per provider and VF token: the PF's, another one, none),
 * with the PF opened as "BDF vf_token=UUID_1":
 *   init_token_match  the VF opens only with the PF's token (-EACCES)
 *   pf_early_close    the same after the PF was closed again
 *   override_token    the same after the PF's user set UUID_2 with
 *                     VFIO_DEVICE_FEATURE(PCI_VF_TOKEN)
 * and, fixture "feat" (one variant per provider):
 *   feature_errnos    VFIO_DEVICE_FEATURE's argsz/flags/PROBE checks and
 *                     PCI_VF_TOKEN's (SET only; -ENOTTY on a VF, on a
 *                     function without SR-IOV and for unknown features)
 *   pf_needs_token    while a VF is open the PF reopens only with the
 *                     token; once it is closed, without
 *   names             the option string: unknown, repeated, malformed
 *                     options -EINVAL, a longer name -ENODEV, spaces
 *   token_not_used    a token given to a function without SR-IOV, or to a
 *                     VF whose PF is on the host's nvme driver: -EINVAL;
 *                     that VF opens without one; a PF whose VFs exist is
 *                     not taken (vfio-pci's -EBUSY at bind)
 *   nl_token_flag     (vstub only) vstubctl --json list shows whether a
 *                     PF's token was set, never the token
 *
 * Runs as root in a QEMU guest of selftests/run (edu unbound at boot).
 */
#include <stddef.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vstub_test.h"
#include "vstub_vfio_util.h"

#define BDF_LEN		32
#define UUID_1		"52ac9bff-3a88-4fbd-901a-0d767c3b6c97"
#define UUID_2		"88594674-90a0-47a9-aea8-9d9b352ac08a"
#define VFIO_PCI_SRIOV	"/sys/module/vfio_pci/parameters/enable_sriov"

/* ---- helpers ------------------------------------------------------------ */

/* Clear driver_override of @bdf and let the host's driver probe it. */
static void unbind_override(const char *bdf)
{
	if (!pci_driver_is(bdf, ""))
		pci_unbind(bdf);
	pci_write_attr(bdf, "driver_override", "\n");
	pci_probe(bdf);
}

static int vf_bdf(const char *pf, char *bdf, size_t len)
{
	char path[256], link[128], *base;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s/virtfn0", PCI_DEVICES_DIR, pf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	base = strrchr(link, '/');
	vstub_strlcpy(bdf, base ? base + 1 : link, len);
	return 0;
}

/* Container and group of @bdf, IOMMU set: ready for GET_DEVICE_FD. */
static int grp_open(struct vfio_ctx *w, const char *dir, const char *bdf)
{
	int ret;

	vfio_ctx_init(w);
	ret = vfio_open_container(w, dir);
	if (!ret)
		ret = vfio_open_group(w, dir, bdf);
	if (!ret && ioctl(w->group, VFIO_GROUP_SET_CONTAINER, &w->container))
		ret = -errno;
	if (!ret && ioctl(w->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		ret = -errno;
	return ret;
}

/* GET_DEVICE_FD with @name as given: the fd or -errno. */
static int dev_get_name(struct vfio_ctx *w, const char *name)
{
	int fd = ioctl(w->group, VFIO_GROUP_GET_DEVICE_FD, name);

	return fd < 0 ? -errno : fd;
}

/* GET_DEVICE_FD of @bdf, with " vf_token=@token" unless NULL. */
static int dev_get(struct vfio_ctx *w, const char *bdf, const char *token)
{
	char name[128];

	if (token)
		snprintf(name, sizeof(name), "%s vf_token=%s", bdf, token);
	else
		snprintf(name, sizeof(name), "%s", bdf);
	return dev_get_name(w, name);
}

/* The whole open: 0 with w->device set, or -errno (w cleaned up). */
static int dev_open(struct vfio_ctx *w, const char *dir, const char *bdf,
		    const char *token)
{
	int ret = grp_open(w, dir, bdf);

	if (!ret) {
		ret = dev_get(w, bdf, token);
		if (ret >= 0) {
			w->device = ret;
			return 0;
		}
	}
	vfio_ctx_close(w);
	return ret;
}

static int uuid_bytes(const char *s, uint8_t out[16])
{
	unsigned int i, v;

	for (i = 0; i < 16; i++) {
		if (*s == '-')
			s++;
		if (sscanf(s, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = v;
		s += 2;
	}
	return 0;
}

/* VFIO_DEVICE_FEATURE with @argsz and @flags, @len bytes of @data. */
static int feature(int fd, uint32_t argsz, uint32_t flags, const void *data,
		   size_t len)
{
	struct {
		struct vfio_device_feature f;
		uint8_t data[32];
	} b;
	int ret;

	memset(&b, 0, sizeof(b));
	b.f.argsz = argsz;
	b.f.flags = flags;
	if (len)
		memcpy(b.data, data, len);
	ret = ioctl(fd, VFIO_DEVICE_FEATURE, &b);
	return ret < 0 ? -errno : ret;
}

/* PCI_VF_TOKEN SET of the token @uuid on the PF @fd. */
static int set_token(int fd, const char *uuid)
{
	uint8_t u[16];

	if (uuid_bytes(uuid, u))
		return -EINVAL;
	return feature(fd, sizeof(struct vfio_device_feature) + 16,
		       VFIO_DEVICE_FEATURE_SET |
		       VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, u, 16);
}

/* `vstubctl --json list @bdf` into @out: its exit status, or -1. */
static int ctl_list(const char *bdf, char *out, size_t len)
{
	static const char * const cands[] = { "/usr/bin/vstubctl",
					      "/bin/vstubctl",
					      "/usr/sbin/vstubctl" };
	const char *ctl = NULL;
	char cmd[256];
	unsigned int i;
	size_t got = 0, n;
	FILE *p;
	int st;

	for (i = 0; i < sizeof(cands) / sizeof(cands[0]) && !ctl; i++)
		if (!access(cands[i], X_OK))
			ctl = cands[i];
	if (!ctl)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s --json list %s 2>&1", ctl, bdf);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (got < len - 1 && (n = fread(out + got, 1, len - 1 - got, p)))
		got += n;
	out[got] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- the set-up both fixtures share ------------------------------------- */

struct env {
	bool vfio_pci;		/* the in-kernel reference instead of vstub */
	const char *dir;	/* its node directory */
	char pf[BDF_LEN];
	char vf[BDF_LEN];
	char edu[BDF_LEN];
	struct vfio_ctx pfw;	/* the PF, opened with UUID_1 */
	struct vfio_ctx vfw;	/* the VF (opened by the test) */
};

/* Back to the guest's boot state: no VFs, nothing bound to a provider. */
static void env_reset(struct env *e)
{
	vfio_ctx_close(&e->vfw);
	vfio_ctx_close(&e->pfw);
	if (e->pf[0]) {
		if (e->vfio_pci)
			sysfs_write(VFIO_PCI_SRIOV, "1");
		pci_write_attr(e->pf, "sriov_numvfs", "0");
		pci_write_attr(e->pf, "sriov_drivers_autoprobe", "1");
		pci_write_attr(e->pf, "reset_method", "default");
	}
	if (e->vfio_pci) {
		if (e->pf[0] && pci_driver_is(e->pf, "vfio-pci"))
			unbind_override(e->pf);
		if (pci_driver_is(e->edu, "vfio-pci"))
			unbind_override(e->edu);
		sysfs_write(VFIO_PCI_SRIOV, "0");
	} else {
		vstub_unload_if_loaded();
	}
	if (e->pf[0] && !pci_driver_is(e->pf, "nvme"))
		unbind_override(e->pf);
}

/* Hand @bdf to the provider (vstub: capture it; it must be loaded). */
static int env_take(struct env *e, const char *bdf)
{
	if (e->vfio_pci)
		return pci_bind_override(bdf, "vfio-pci");
	return pci_driver_is(bdf, "vstub") ? 0 : vstub_capture_wait(bdf);
}

/*
 * The provider holds edu, the NVMe PF and its one VF; the PF is open with
 * UUID_1 when @open_pf.  0, or a reason to skip in *@skip, or -errno.
 */
static int env_setup(struct env *e, bool vfio_pci, bool open_pf,
		     const char **skip)
{
	int ret;

	memset(e, 0, sizeof(*e));
	vfio_ctx_init(&e->pfw);
	vfio_ctx_init(&e->vfw);
	e->vfio_pci = vfio_pci;
	e->dir = vfio_pci ? VFIO_NODE_DIR : VSTUB_NODE_DIR;
	*skip = NULL;
	if (!vstub_env_is("VSTUB_SRIOV", "1")) {
		*skip = "no SR-IOV device in this configuration";
		return 0;
	}
	if (!strcmp(vstub_iommu(), "amd")) {
		*skip = "SR-IOV VFs have no IOMMU group on AMD-Vi in QEMU 7.2";
		return 0;
	}
	if (pci_find(EDU_VENDOR, EDU_DEVICE, 0, e->edu, BDF_LEN) ||
	    pci_find(NVME_VENDOR, NVME_DEVICE, 0, e->pf, BDF_LEN)) {
		e->pf[0] = '\0';
		*skip = "no edu or NVMe in this guest";
		return 0;
	}
	if (vfio_pci) {
		if (vstub_no_intremap()) {
			*skip = "vfio-pci refuses groups without interrupt remapping";
			return 0;
		}
		if (!path_exists("/sys/bus/pci/drivers/vfio-pci")) {
			*skip = "vfio-pci is not loaded";
			return 0;
		}
	}
	env_reset(e);
	/*
	 * QEMU's NVMe drops its VFs for good when the PF is reset (its FLR
	 * at first open and last close, by either provider); the VFs must
	 * outlive the PF's opens here, so the PF goes without resets.
	 */
	ret = pci_write_attr(e->pf, "reset_method", "\n");
	if (ret)
		return ret;
	if (vfio_pci) {
		ret = sysfs_write(VFIO_PCI_SRIOV, "1");
		if (!ret)
			ret = pci_bind_override(e->edu, "vfio-pci");
	} else {
		ret = vstub_load_edu(NULL, false, e->edu);
	}
	if (!ret)
		ret = env_take(e, e->pf);
	if (!ret)
		ret = pci_write_attr(e->pf, "sriov_numvfs", "1");
	if (!ret)
		ret = vf_bdf(e->pf, e->vf, BDF_LEN);
	if (ret)
		return ret;
	/* The VF is the provider's (driver_override set as it appeared). */
	if (!pci_wait_driver(e->vf, vfio_pci ? "vfio-pci" : "vstub", 1000))
		pci_probe(e->vf);
	if (!pci_wait_driver(e->vf, vfio_pci ? "vfio-pci" : "vstub", 5000))
		return -ENODEV;
	if (pci_iommu_group(e->vf) < 0) {
		env_reset(e);
		*skip = "the VF has no IOMMU group here";
		return 0;
	}
	if (open_pf)
		return dev_open(&e->pfw, e->dir, e->pf, UUID_1);
	return 0;
}

/* ---- the rules of vfio_pci_sriov_uapi_test ------------------------------ */

FIXTURE(tok)
{
	struct env e;
	const char *pf_token;	/* the token the PF's user set last */
};

FIXTURE_VARIANT(tok)
{
	bool vfio_pci;
	const char *vf_token;	/* the token the VF is opened with */
};

FIXTURE_VARIANT_ADD(tok, vstub_same_uuid) { .vf_token = UUID_1 };
FIXTURE_VARIANT_ADD(tok, vstub_diff_uuid) { .vf_token = UUID_2 };
FIXTURE_VARIANT_ADD(tok, vstub_null_uuid) { .vf_token = NULL };
FIXTURE_VARIANT_ADD(tok, vfio_pci_same_uuid)
{
	.vfio_pci = true, .vf_token = UUID_1
};
FIXTURE_VARIANT_ADD(tok, vfio_pci_diff_uuid)
{
	.vfio_pci = true, .vf_token = UUID_2
};
FIXTURE_VARIANT_ADD(tok, vfio_pci_null_uuid)
{
	.vfio_pci = true, .vf_token = NULL
};

FIXTURE_SETUP(tok)
{
	const char *skip;

	ASSERT_EQ(0, env_setup(&self->e, variant->vfio_pci, true, &skip));
	if (skip)
		SKIP(return, "%s", skip);
	self->pf_token = UUID_1;
}

FIXTURE_TEARDOWN(tok)
{
	env_reset(&self->e);
}

/* The VF opens exactly when its token is the PF's; else -EACCES. */
static void check_vf_open(struct __test_metadata *_metadata,
			  FIXTURE_DATA(tok) *self,
			  const FIXTURE_VARIANT(tok) *variant)
{
	int ret = dev_open(&self->e.vfw, self->e.dir, self->e.vf,
			   variant->vf_token);

	if (variant->vf_token && !strcmp(variant->vf_token, self->pf_token)) {
		ASSERT_EQ(0, ret);
	} else {
		ASSERT_EQ(-EACCES, ret);
	}
}

TEST_F_TIMEOUT(tok, init_token_match, 120)
{
	check_vf_open(_metadata, self, variant);
}

TEST_F_TIMEOUT(tok, pf_early_close, 120)
{
	vfio_ctx_close(&self->e.pfw);
	check_vf_open(_metadata, self, variant);
}

TEST_F_TIMEOUT(tok, override_token, 120)
{
	ASSERT_EQ(0, set_token(self->e.pfw.device, UUID_2));
	self->pf_token = UUID_2;
	check_vf_open(_metadata, self, variant);
}

/* ---- VFIO_DEVICE_FEATURE and the option string -------------------------- */

FIXTURE(feat)
{
	struct env e;
};

FIXTURE_VARIANT(feat)
{
	bool vfio_pci;
};

FIXTURE_VARIANT_ADD(feat, vstub) { .vfio_pci = false };
FIXTURE_VARIANT_ADD(feat, vfio_pci) { .vfio_pci = true };

FIXTURE_SETUP(feat)
{
	const char *skip;

	ASSERT_EQ(0, env_setup(&self->e, variant->vfio_pci, true, &skip));
	if (skip)
		SKIP(return, "%s", skip);
}

FIXTURE_TEARDOWN(feat)
{
	env_reset(&self->e);
}

#define FSZ		((uint32_t)sizeof(struct vfio_device_feature))
#define F_TOKEN		VFIO_DEVICE_FEATURE_PCI_VF_TOKEN
#define F_GET		VFIO_DEVICE_FEATURE_GET
#define F_SET		VFIO_DEVICE_FEATURE_SET
#define F_PROBE		VFIO_DEVICE_FEATURE_PROBE
#define F_UNKNOWN	0xfff0U		/* no provider has it */

TEST_F_TIMEOUT(feat, feature_errnos, 120)
{
	int pf = self->e.pfw.device;
	struct vfio_ctx w;
	uint8_t u[16];

	ASSERT_EQ(0, uuid_bytes(UUID_2, u));
	/* The VFIO core's checks of the header. */
	EXPECT_EQ(-EFAULT, ioctl(pf, VFIO_DEVICE_FEATURE, NULL) ? -errno : 0);
	EXPECT_EQ(-EINVAL, feature(pf, FSZ - 1, F_PROBE | F_SET | F_TOKEN,
				   NULL, 0));
	EXPECT_EQ(-EINVAL, feature(pf, FSZ, F_PROBE | F_SET | F_TOKEN |
				   (1U << 20), NULL, 0));
	EXPECT_EQ(-EINVAL, feature(pf, FSZ + 16, F_GET | F_SET | F_TOKEN,
				   u, 16));
	/* Unknown features: -ENOTTY, whatever the flags. */
	EXPECT_EQ(-ENOTTY, feature(pf, FSZ, F_PROBE | F_SET | F_UNKNOWN,
				   NULL, 0));
	EXPECT_EQ(-ENOTTY, feature(pf, FSZ + 16, F_SET | F_UNKNOWN, u, 16));
	EXPECT_EQ(-ENOTTY, feature(pf, FSZ, F_PROBE |
				   VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0));
	/* PCI_VF_TOKEN: PROBE says SET is there, GET is not. */
	EXPECT_EQ(0, feature(pf, FSZ, F_PROBE | F_TOKEN, NULL, 0));
	EXPECT_EQ(0, feature(pf, FSZ, F_PROBE | F_SET | F_TOKEN, NULL, 0));
	EXPECT_EQ(-EINVAL, feature(pf, FSZ, F_PROBE | F_GET | F_TOKEN,
				   NULL, 0));
	EXPECT_EQ(-EINVAL, feature(pf, FSZ, F_PROBE | F_GET | F_SET | F_TOKEN,
				   NULL, 0));
	EXPECT_EQ(-EINVAL, feature(pf, FSZ + 16, F_GET | F_TOKEN, NULL, 0));
	/* Neither GET nor SET, or a short payload. */
	EXPECT_EQ(-EINVAL, feature(pf, FSZ + 16, F_TOKEN, u, 16));
	EXPECT_EQ(-EINVAL, feature(pf, FSZ, F_SET | F_TOKEN, NULL, 0));
	EXPECT_EQ(-EINVAL, feature(pf, FSZ + 15, F_SET | F_TOKEN, u, 15));
	/* A set that works: the VF then opens with UUID_2 only. */
	EXPECT_EQ(0, feature(pf, FSZ + 16, F_SET | F_TOKEN, u, 16));
	EXPECT_EQ(-EACCES, dev_open(&w, self->e.dir, self->e.vf, UUID_1));
	ASSERT_EQ(0, dev_open(&self->e.vfw, self->e.dir, self->e.vf, UUID_2));

	/* Not a PF: no PCI_VF_TOKEN (the VF, edu). */
	EXPECT_EQ(-ENOTTY, feature(self->e.vfw.device, FSZ,
				   F_PROBE | F_SET | F_TOKEN, NULL, 0));
	EXPECT_EQ(-ENOTTY, feature(self->e.vfw.device, FSZ + 16,
				   F_SET | F_TOKEN, u, 16));
	ASSERT_EQ(0, dev_open(&w, self->e.dir, self->e.edu, NULL));
	EXPECT_EQ(-ENOTTY, feature(w.device, FSZ, F_PROBE | F_SET | F_TOKEN,
				   NULL, 0));
	EXPECT_EQ(-ENOTTY, feature(w.device, FSZ, F_PROBE | F_UNKNOWN,
				   NULL, 0));
	vfio_ctx_close(&w);
}

TEST_F_TIMEOUT(feat, pf_needs_token, 120)
{
	char mark[128];

	ASSERT_EQ(0, dev_open(&self->e.vfw, self->e.dir, self->e.vf, UUID_1));
	vfio_ctx_close(&self->e.pfw);

	/* A VF is open: the PF's next user must show the token. */
	ASSERT_EQ(0, kmsg_mark(mark, sizeof(mark)));
	EXPECT_EQ(-EACCES, dev_open(&self->e.pfw, self->e.dir, self->e.pf,
				    NULL));
	EXPECT_TRUE(dmesg_since(mark, "VF token required"));
	EXPECT_EQ(-EACCES, dev_open(&self->e.pfw, self->e.dir, self->e.pf,
				    UUID_2));
	EXPECT_TRUE(dmesg_since(mark, "ncorrect VF token"));
	ASSERT_EQ(0, dev_open(&self->e.pfw, self->e.dir, self->e.pf, UUID_1));
	vfio_ctx_close(&self->e.pfw);

	/* No VF open: the PF opens without, and a token given sets it. */
	vfio_ctx_close(&self->e.vfw);
	ASSERT_EQ(0, dev_open(&self->e.pfw, self->e.dir, self->e.pf, NULL));
	vfio_ctx_close(&self->e.pfw);
	EXPECT_EQ(0, dev_open(&self->e.vfw, self->e.dir, self->e.vf, UUID_1));
	vfio_ctx_close(&self->e.vfw);
	ASSERT_EQ(0, dev_open(&self->e.pfw, self->e.dir, self->e.pf, UUID_2));
	EXPECT_EQ(-EACCES, dev_open(&self->e.vfw, self->e.dir, self->e.vf,
				    UUID_1));
	EXPECT_EQ(0, dev_open(&self->e.vfw, self->e.dir, self->e.vf, UUID_2));
}

TEST_F_TIMEOUT(feat, names, 120)
{
	const char *vf = self->e.vf;
	struct vfio_ctx *w = &self->e.vfw;
	char name[160];
	int fd;

	ASSERT_EQ(0, grp_open(w, self->e.dir, vf));
	snprintf(name, sizeof(name), "%s vf_token=not-a-uuid", vf);
	EXPECT_EQ(-EINVAL, dev_get_name(w, name));
	snprintf(name, sizeof(name), "%s vf_token=%.35s", vf, UUID_1);
	EXPECT_EQ(-EINVAL, dev_get_name(w, name));
	snprintf(name, sizeof(name), "%s vf_token=%sx", vf, UUID_1);
	EXPECT_EQ(-EINVAL, dev_get_name(w, name));
	snprintf(name, sizeof(name), "%s vf_token=%s vf_token=%s", vf, UUID_1,
		 UUID_1);
	EXPECT_EQ(-EINVAL, dev_get_name(w, name));
	snprintf(name, sizeof(name), "%s foo=1 vf_token=%s", vf, UUID_1);
	EXPECT_EQ(-EINVAL, dev_get_name(w, name));
	snprintf(name, sizeof(name), "%s0", vf);
	EXPECT_EQ(-ENODEV, dev_get_name(w, name));
	snprintf(name, sizeof(name), "%s", vf);
	name[strlen(name) - 1] = '\0';		/* a prefix of the name */
	EXPECT_EQ(-ENODEV, dev_get_name(w, name));
	snprintf(name, sizeof(name), "%s  ", vf);	/* no token: needed */
	EXPECT_EQ(-EACCES, dev_get_name(w, name));
	snprintf(name, sizeof(name), "%s   vf_token=%s  ", vf, UUID_1);
	fd = dev_get_name(w, name);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
}

TEST_F_TIMEOUT(feat, token_not_used, 180)
{
	struct env *e = &self->e;
	char mark[128];
	struct vfio_ctx w;

	/* A function without SR-IOV takes no token. */
	ASSERT_EQ(0, kmsg_mark(mark, sizeof(mark)));
	EXPECT_EQ(-EINVAL, dev_open(&w, e->dir, e->edu, UUID_1));
	EXPECT_TRUE(dmesg_since(mark, "VF token incorrectly provided") ||
		    dmesg_since(mark, "VF token given"));

	/* The PF back to the host's nvme driver, which makes the VF. */
	vfio_ctx_close(&e->pfw);
	ASSERT_EQ(0, pci_write_attr(e->pf, "sriov_numvfs", "0"));
	if (e->vfio_pci) {
		unbind_override(e->pf);
	} else {
		ASSERT_EQ(0, vstub_write("release", e->pf));
	}
	ASSERT_TRUE(pci_wait_driver(e->pf, "nvme", 5000));
	ASSERT_EQ(0, pci_write_attr(e->pf, "sriov_drivers_autoprobe", "0"));
	ASSERT_EQ(0, pci_write_attr(e->pf, "sriov_numvfs", "1"));
	ASSERT_EQ(0, vf_bdf(e->pf, e->vf, BDF_LEN));
	ASSERT_EQ(0, env_take(e, e->vf));

	/* Its PF is not the provider's: a token is refused, none needed. */
	ASSERT_EQ(0, kmsg_mark(mark, sizeof(mark)));
	EXPECT_EQ(-EINVAL, dev_open(&e->vfw, e->dir, e->vf, UUID_1));
	EXPECT_TRUE(dmesg_since(mark, "not bound to"));
	ASSERT_EQ(0, dev_open(&e->vfw, e->dir, e->vf, NULL));
	vfio_ctx_close(&e->vfw);

	/* A PF whose VFs exist is not taken; the host keeps it. */
	ASSERT_EQ(0, kmsg_mark(mark, sizeof(mark)));
	EXPECT_NE(0, env_take(e, e->pf));
	EXPECT_TRUE(dmesg_since(mark, "SR-IOV enabled") ||
		    dmesg_since(mark, "SR-IOV is enabled"));
	if (!pci_driver_is(e->pf, "nvme"))
		unbind_override(e->pf);
	EXPECT_TRUE(pci_wait_driver(e->pf, "nvme", 5000));
}

TEST_F_TIMEOUT(feat, nl_token_flag, 120)
{
	struct env *e = &self->e;
	char out[8192];

	if (variant->vfio_pci)
		SKIP(return, "vstub's own report");
	/* The PF was opened with UUID_1 (set-up). */
	ASSERT_EQ(0, ctl_list(e->pf, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"vf_token_set\":true")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strcasestr(out, UUID_1));

	/* Captured afresh: a random token nobody set. */
	vfio_ctx_close(&e->pfw);
	ASSERT_EQ(0, pci_write_attr(e->pf, "sriov_numvfs", "0"));
	ASSERT_EQ(0, vstub_write("release", e->pf));
	ASSERT_TRUE(pci_wait_driver(e->pf, "nvme", 5000));
	ASSERT_EQ(0, vstub_capture_wait(e->pf));
	ASSERT_EQ(0, ctl_list(e->pf, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"vf_token_set\":false")) TH_LOG("%s", out);

	/* Not an SR-IOV PF: no such field. */
	ASSERT_EQ(0, ctl_list(e->edu, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "vf_token_set")) TH_LOG("%s", out);
}

TEST_HARNESS_MAIN
