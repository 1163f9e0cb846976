// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_demo_dma - one visible DMA round trip through vstub's VFIO
 * interface: a userspace program maps two of its own buffers for the QEMU
 * edu device, makes the device copy a message from the first into its
 * on-board memory and back out into the second, and shows that the IOMMU
 * lets the device reach only what was mapped.
 *
 *   vstub_demo_dma [BDF]     (default: the first edu device, 1234:11e8)
 *
 * vstub must be loaded with the edu device captured.  With
 * VSTUB_DEMO_USER=UID:GID it first drops every privilege and runs as that
 * user (the device must have been given to them: vstubctl capture
 * --owner); VSTUB_DEMO_HOLD=COMMAND runs COMMAND (through sh) while the
 * buffers are mapped, e.g. to show vstubctl list with the holder.
 */
#include <dirent.h>
#include <grp.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "../vstub_vfio_util.h"

#define PG		4096UL
#define IOVA_SRC	0x100000ULL
#define IOVA_DST	0x200000ULL
#define IOVA_UNMAPPED	0x300000ULL

static const char message[] =
	"Hello from userspace: RAM -> edu device -> RAM, through the IOMMU.";

static int find_edu(char *bdf, size_t len)
{
	struct dirent *e;
	DIR *d = opendir("/sys/bus/pci/devices");
	int ret = -ENODEV;

	if (!d)
		return -errno;
	while (ret && (e = readdir(d))) {
		char path[512], buf[16];
		FILE *f;
		bool v = false, dv = false;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 e->d_name);
		f = fopen(path, "r");
		if (f) {
			v = fgets(buf, sizeof(buf), f) && !strncmp(buf, "0x1234", 6);
			fclose(f);
		}
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 e->d_name);
		f = fopen(path, "r");
		if (f) {
			dv = fgets(buf, sizeof(buf), f) && !strncmp(buf, "0x11e8", 6);
			fclose(f);
		}
		if (v && dv) {
			snprintf(bdf, len, "%s", e->d_name);
			ret = 0;
		}
	}
	closedir(d);
	return ret;
}

static void die(const char *what, int err)
{
	printf("  FAILED: %s: %s\n", what, strerror(-err));
	exit(1);
}

static void *page(int fill)
{
	void *p = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("allocating a buffer", -errno);
	memset(p, fill, PG);
	return p;
}

int main(int argc, char **argv)
{
	const char *dir = VSTUB_NODE_DIR;
	char bdf[256], *src, *dst, *guard;
	const char *user, *hold;
	struct vfio_ctx v;
	struct stat st;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1)
		snprintf(bdf, sizeof(bdf), "%s", argv[1]);
	else if (find_edu(bdf, sizeof(bdf)))
		die("looking for the edu device", -ENODEV);
	if (stat(VSTUB_NODE_DIR "/vfio", &st))
		dir = VFIO_NODE_DIR;	/* vstub loaded with vfio_compat=1 */
	user = getenv("VSTUB_DEMO_USER");
	if (user) {
		unsigned int uid, gid;

		if (sscanf(user, "%u:%u", &uid, &gid) != 2)
			die("VSTUB_DEMO_USER is not UID:GID", -EINVAL);
		if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
		    setresuid(uid, uid, uid))
			die("dropping privileges", -errno);
		printf("Running as uid %u, gid %u, without any privilege.\n",
		       uid, gid);
	}

	printf("DMA demo on the edu device %s, through vstub's VFIO interface\n",
	       bdf);
	vfio_ctx_init(&v);
	ret = vfio_open_device(&v, dir, bdf, VFIO_TYPE1v2_IOMMU);
	if (ret)
		die("opening the device through vstub", ret);
	printf("  opened %s/vfio (container), %s/%d (IOMMU group %d) and the device;\n"
	       "  the group now has its own IOMMU domain: the device can reach\n"
	       "  no memory at all until the program maps some.\n",
	       dir, dir, v.groupnr, v.groupnr);
	printf("  edu identifies itself as 0x%08x through its mmapped BAR0.\n",
	       edu_read(v.bar0, EDU_REG_ID));
	ret = vfio_enable_dma(v.device);
	if (ret)
		die("enabling bus mastering", ret);

	src = page(0);
	dst = page(0);
	guard = page('#');
	memcpy(src, message, sizeof(message));
	ret = vfio_map(v.container, src, IOVA_SRC, PG, VFIO_DMA_MAP_FLAG_READ);
	if (!ret)
		ret = vfio_map(v.container, dst, IOVA_DST, PG,
			       VFIO_DMA_MAP_FLAG_WRITE);
	if (ret)
		die("mapping the buffers", ret);
	printf("  mapped buffer A at device address 0x%llx (device may read it)\n",
	       IOVA_SRC);
	printf("  mapped buffer B at device address 0x%llx (device may write it)\n",
	       IOVA_DST);

	ret = edu_dma(v.bar0, IOVA_SRC, EDU_DEV_BUF, sizeof(message), 0, 10000);
	if (ret)
		die("DMA from buffer A into the device", ret);
	printf("  the device copied %zu bytes from A into its own memory...\n",
	       sizeof(message));
	ret = edu_dma(v.bar0, EDU_DEV_BUF, IOVA_DST, sizeof(message), 1, 10000);
	if (ret)
		die("DMA from the device into buffer B", ret);
	printf("  ...and from its memory into B.\n");
	if (memcmp(src, dst, sizeof(message)))
		die("comparing A and B", -EIO);
	printf("  buffer B now reads: \"%s\"\n", dst);
	hold = getenv("VSTUB_DEMO_HOLD");
	if (hold) {
		printf("  (while the program holds the device with its buffers mapped:)\n");
		fflush(stdout);
		if (system(hold))
			printf("  (%s failed)\n", hold);
	}

	/* The IOMMU at work: once unmapped, a buffer is out of reach. */
	ret = vfio_map(v.container, guard, IOVA_UNMAPPED, PG, VFIO_RW);
	if (ret)
		die("mapping buffer C", ret);
	if (vfio_unmap(v.container, IOVA_UNMAPPED, PG, 0) != (int64_t)PG)
		die("unmapping buffer C", -EIO);
	ret = edu_dma(v.bar0, EDU_DEV_BUF, IOVA_UNMAPPED, sizeof(message), 1,
		      10000);
	if (ret)
		die("DMA to an unmapped address", ret);
	if (guard[0] != '#' || guard[sizeof(message) - 1] != '#')
		die("buffer C was written after it was unmapped", -EIO);
	printf("  buffer C was mapped at 0x%llx and unmapped again; the device then\n"
	       "  tried to write there: the IOMMU blocked it, C is untouched%s.\n",
	       IOVA_UNMAPPED,
	       access("/sys/class/iommu/dmar0", F_OK) ? "" :
	       " (VT-d logged the fault in the kernel log)");

	printf("  unmapped %lld bytes; closing the files gives the pinned pages back.\n",
	       (long long)vfio_unmap(v.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL));
	vfio_ctx_close(&v);
	printf("DMA demo passed.\n");
	return 0;
}
