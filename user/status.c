// SPDX-License-Identifier: GPL-2.0
/*
 * status.c - is there an IOMMU, does it translate, is interrupt remapping
 * on, and how to fix it if not.
 *
 * Works without the module, from the kernel's real state (never from
 * /proc/cmdline):
 *   - /sys/class/iommu: the IOMMU units the kernel registered (dmarN =
 *     Intel VT-d, ivhdN = AMD-Vi, others e.g. virtio-iommu);
 *   - /sys/firmware/acpi/tables/{DMAR,IVRS,VIOT}: what the firmware offers;
 *   - /sys/kernel/iommu_groups/N/type: how each group's DMA is handled;
 *   - interrupt remapping: the interrupt chips in /proc/interrupts ("IR-"
 *     chips only exist when the kernel remaps interrupts), and for VT-d the
 *     hardware capability (ecap bit 3, IR);
 * and, with the module loaded, vstub's own report (MSI isolation as the
 * kernel's VFIO checks it, per device).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <netlink/attr.h>

#include "vstubctl.h"

#define MAX_UNITS 64
#define MAX_HINTS 8

struct status {
	char units[MAX_UNITS][64];
	char unit_type[MAX_UNITS][16];
	int nunits;
	bool dmar, ivrs, viot;		/* ACPI tables */
	int ngroups;
	int gt_dma, gt_ident, gt_blocked, gt_unmanaged, gt_other;
	int ir_hw;			/* VT-d ecap IR: -1 unknown, 0, 1 */
	bool ir_chips;			/* "IR-" chips in /proc/interrupts */
	bool irq_info;			/* /proc/interrupts was readable */
	/* from the module */
	bool kernel;
	uint64_t k_pci, k_grouped, k_groups, k_trans, k_isol, k_captured, k_ids;
	const char *hints[MAX_HINTS];
	int nhints;
};

static void hint(struct status *st, const char *h)
{
	if (st->nhints < MAX_HINTS)
		st->hints[st->nhints++] = h;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void scan_units(struct ctx *ctx, struct status *st)
{
	char path[512], drv[64];
	unsigned long ecap;
	struct dirent *de;
	DIR *d;
	int i;

	snprintf(path, sizeof(path), "%s/sys/class/iommu", ctx->sysfs);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) && st->nunits < MAX_UNITS) {
		if (de->d_name[0] == '.')
			continue;
		scopy(st->units[st->nunits], de->d_name, sizeof(st->units[0]));
		st->nunits++;
	}
	closedir(d);
	qsort(st->units, st->nunits, sizeof(st->units[0]), cmp_str);

	st->ir_hw = -1;
	for (i = 0; i < st->nunits; i++) {
		const char *u = st->units[i], *t = "other";

		if (!strncmp(u, "dmar", 4)) {
			t = "vtd";
			snprintf(path, sizeof(path),
				 "%s/sys/class/iommu/%s/intel-iommu/ecap",
				 ctx->sysfs, u);
			if (!sysfs_read_hex(path, &ecap))
				st->ir_hw = (st->ir_hw != 0) && (ecap & (1UL << 3));
		} else if (!strncmp(u, "ivhd", 4)) {
			t = "amd";
		} else {
			snprintf(path, sizeof(path),
				 "%s/sys/class/iommu/%s/device/driver", ctx->sysfs, u);
			if (!sysfs_link_name(path, drv, sizeof(drv)) &&
			    strstr(drv, "virtio"))
				t = "virtio";
		}
		scopy(st->unit_type[i], t, sizeof(st->unit_type[0]));
	}
}

static void scan_groups(struct ctx *ctx, struct status *st)
{
	char path[512], type[32];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups", ctx->sysfs);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		st->ngroups++;
		snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups/%s/type",
			 ctx->sysfs, de->d_name);
		if (sysfs_read_str(path, type, sizeof(type)) < 0)
			st->gt_other++;
		else if (!strcmp(type, "DMA") || !strcmp(type, "DMA-FQ"))
			st->gt_dma++;
		else if (!strcmp(type, "identity"))
			st->gt_ident++;
		else if (!strcmp(type, "blocked"))
			st->gt_blocked++;
		else if (!strcmp(type, "unmanaged"))
			st->gt_unmanaged++;
		else
			st->gt_other++;
	}
	closedir(d);
}

/* Interrupt chips whose name starts with "IR-" exist only with remapping. */
static void scan_interrupts(struct ctx *ctx, struct status *st)
{
	char path[512], *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/interrupts", ctx->sysfs);
	f = fopen(path, "re");
	if (!f)
		return;
	st->irq_info = true;
	while (getline(&line, &cap, f) >= 0) {
		if (strstr(line, " IR-")) {
			st->ir_chips = true;
			break;
		}
	}
	free(line);
	fclose(f);
}

static int kernel_reply(struct nlattr **tb, void *arg)
{
	struct status *st = arg;

	st->kernel = true;
	st->k_pci = vnl_uint(tb, VSTUB_A_NUM_PCI, 0);
	st->k_grouped = vnl_uint(tb, VSTUB_A_NUM_GROUPED, 0);
	st->k_groups = vnl_uint(tb, VSTUB_A_NUM_GROUPS, 0);
	st->k_trans = vnl_uint(tb, VSTUB_A_NUM_TRANSLATED, 0);
	st->k_isol = vnl_uint(tb, VSTUB_A_NUM_ISOLATED_MSI, 0);
	st->k_captured = vnl_uint(tb, VSTUB_A_NUM_CAPTURED, 0);
	st->k_ids = vnl_uint(tb, VSTUB_A_NUM_IDS, 0);
	return 0;
}

static const char *iommu_type(const struct status *st)
{
	if (!st->nunits)
		return "none";
	return st->unit_type[0];
}

static bool ir_enabled(const struct status *st)
{
	if (st->kernel && st->k_grouped)
		return st->k_isol == st->k_grouped;
	return st->ir_chips;
}

static const char *ir_evidence(const struct status *st)
{
	if (st->kernel && st->k_grouped)
		return st->k_isol == st->k_grouped ?
		       "the kernel reports isolated MSI for every device in an IOMMU group" :
		       "the kernel reports devices without isolated MSI";
	if (st->ir_chips)
		return "interrupts are delivered through remapping (IR- chips in /proc/interrupts)";
	if (st->irq_info)
		return "no interrupt goes through a remapping chip (no IR- chips in /proc/interrupts)";
	return "unknown (/proc/interrupts not readable)";
}

static void make_hints(struct status *st)
{
	bool ir = ir_enabled(st);

	if (!st->nunits) {
		if (st->dmar)
			hint(st, "the firmware describes an Intel VT-d IOMMU (ACPI DMAR) but the kernel does not use it: boot with intel_iommu=on (and without iommu=off)");
		else if (st->ivrs)
			hint(st, "the firmware describes an AMD-Vi IOMMU (ACPI IVRS) but the kernel does not use it: remove amd_iommu=off / iommu=off from the kernel command line");
		else if (st->viot)
			hint(st, "the firmware describes a virtio-iommu (ACPI VIOT): load the virtio_iommu module (CONFIG_VIRTIO_IOMMU)");
		else
			hint(st, "the firmware describes no IOMMU: enable VT-d / AMD-Vi (\"IOMMU\", \"Intel VT for Directed I/O\") in the firmware setup, or add an IOMMU to the VM");
		return;
	}
	if (!ir) {
		if (!strcmp(iommu_type(st), "vtd") && st->ir_hw == 0)
			hint(st, "the VT-d hardware does not offer interrupt remapping (ecap IR=0); in QEMU use -device intel-iommu,intremap=on with -machine kernel-irqchip=split");
		else if (!strcmp(iommu_type(st), "virtio"))
			hint(st, "virtio-iommu does not remap interrupts on x86: VFIO only attaches with vfio_iommu_type1.allow_unsafe_interrupts=1 (unsafe with untrusted devices)");
		else
			hint(st, "interrupt remapping is off: remove intremap=off / nointremap from the kernel command line and enable x2APIC / interrupt remapping in the firmware");
	}
	if (st->gt_ident)
		hint(st, "some IOMMU groups use identity (passthrough) domains (iommu=pt): host drivers' DMA is not translated, but devices given to userspace still are");
}

static void print_nodes(struct ctx *ctx);

static void print_json(struct ctx *ctx, const struct status *st)
{
	struct json *js = ctx->js;
	int i;

	json_obj_begin(js, NULL);
	json_bool(js, "module_loaded", vnl_module_loaded());
	json_obj_begin(js, "iommu");
	json_bool(js, "enabled", st->nunits > 0);
	json_str(js, "type", iommu_type(st));
	json_arr_begin(js, "units");
	for (i = 0; i < st->nunits; i++) {
		json_obj_begin(js, NULL);
		json_str(js, "name", st->units[i]);
		json_str(js, "type", st->unit_type[i]);
		json_obj_end(js);
	}
	json_arr_end(js);
	json_arr_begin(js, "firmware_tables");
	if (st->dmar)
		json_str(js, NULL, "DMAR");
	if (st->ivrs)
		json_str(js, NULL, "IVRS");
	if (st->viot)
		json_str(js, NULL, "VIOT");
	json_arr_end(js);
	json_int(js, "groups", st->ngroups);
	json_obj_begin(js, "group_types");
	json_int(js, "translated", st->gt_dma);
	json_int(js, "identity", st->gt_ident);
	json_int(js, "blocked", st->gt_blocked);
	json_int(js, "unmanaged", st->gt_unmanaged);
	json_int(js, "other", st->gt_other);
	json_obj_end(js);
	json_obj_end(js);
	json_obj_begin(js, "interrupt_remapping");
	json_bool(js, "enabled", ir_enabled(st));
	if (st->ir_hw >= 0)
		json_bool(js, "hardware", st->ir_hw);
	else
		json_null(js, "hardware");
	json_bool(js, "remapped_chips", st->ir_chips);
	json_str(js, "evidence", ir_evidence(st));
	json_obj_end(js);
	if (st->kernel) {
		json_obj_begin(js, "kernel");
		json_int(js, "pci_functions", st->k_pci);
		json_int(js, "grouped", st->k_grouped);
		json_int(js, "groups", st->k_groups);
		json_int(js, "translated", st->k_trans);
		json_int(js, "isolated_msi", st->k_isol);
		json_int(js, "captured", st->k_captured);
		json_int(js, "ids", st->k_ids);
		json_obj_end(js);
	} else {
		json_null(js, "kernel");
	}
	if (st->kernel)
		print_nodes(ctx);
	json_arr_begin(js, "hints");
	for (i = 0; i < st->nhints; i++)
		json_str(js, NULL, st->hints[i]);
	json_arr_end(js);
	json_obj_end(js);
	json_done(js);
}

static void print_human(struct ctx *ctx, const struct status *st)
{
	int i;

	printf("IOMMU: %s", st->nunits ? "on" : "OFF");
	if (st->nunits) {
		printf(" (%s; units:", iommu_type(st));
		for (i = 0; i < st->nunits; i++)
			printf(" %s", st->units[i]);
		printf(")");
	}
	printf("\n");
	printf("  firmware tables: %s%s%s%s\n", st->dmar ? "DMAR " : "",
	       st->ivrs ? "IVRS " : "", st->viot ? "VIOT " : "",
	       st->dmar || st->ivrs || st->viot ? "" : "none");
	printf("  IOMMU groups: %d (translated %d, identity %d, blocked %d, unmanaged %d, other %d)\n",
	       st->ngroups, st->gt_dma, st->gt_ident, st->gt_blocked,
	       st->gt_unmanaged, st->gt_other);
	printf("interrupt remapping: %s\n", ir_enabled(st) ? "on" : "OFF");
	printf("  %s\n", ir_evidence(st));
	if (st->ir_hw >= 0)
		printf("  VT-d hardware IR capability (ecap bit 3): %s\n",
		       st->ir_hw ? "yes" : "no");
	if (st->kernel) {
		printf("vstub: loaded; %" PRIu64 " of %" PRIu64 " PCI functions in %" PRIu64
		       " IOMMU groups, %" PRIu64 " translated, %" PRIu64
		       " with isolated MSI; %" PRIu64 " captured, %" PRIu64 " IDs\n",
		       st->k_grouped, st->k_pci, st->k_groups, st->k_trans,
		       st->k_isol, st->k_captured, st->k_ids);
		print_nodes(ctx);
	} else {
		printf("vstub: %s\n", vnl_module_loaded() ?
		       "loaded, but its netlink family did not answer" :
		       "not loaded (modprobe vstub)");
	}
	for (i = 0; i < st->nhints; i++)
		printf("hint: %s\n", st->hints[i]);
}

/* The VFIO nodes and who may open them (with the module loaded). */
static void print_nodes(struct ctx *ctx)
{
	char dir[64], path[320], who[192];
	struct dirent **list;
	struct stat stt;
	int i, n;

	group_node_path(ctx, 0, dir, sizeof(dir));
	*strrchr(dir, '/') = '\0';
	n = scandir(dir, &list, NULL, alphasort);
	if (n < 0)
		return;
	if (ctx->json)
		json_arr_begin(ctx->js, "nodes");
	else
		printf("VFIO nodes (%s):\n", dir);
	for (i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		bool container = !strcmp(name, "vfio");

		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (name[0] == '.' || stat(path, &stt) || !S_ISCHR(stt.st_mode)) {
			free(list[i]);
			continue;
		}
		if (ctx->json) {
			json_obj_begin(ctx->js, NULL);
			json_str(ctx->js, "path", path);
			json_str(ctx->js, "kind", container ? "container" : "group");
			json_int(ctx->js, "uid", stt.st_uid);
			json_int(ctx->js, "gid", stt.st_gid);
			json_int(ctx->js, "mode", stt.st_mode & 07777);
			json_obj_end(ctx->js);
		} else if (node_access(path, who, sizeof(who))) {
			printf("  %-18s %s%s\n", path, who,
			       container ? " (a container alone gives access to no device)" : "");
		}
		free(list[i]);
	}
	free(list);
	if (ctx->json)
		json_arr_end(ctx->js);
}

static int cmd_status(struct ctx *ctx, int argc, char **argv)
{
	struct status *st;
	char path[512];
	int ret = EXIT_OK;

	(void)argv;
	if (argc) {
		err_msg(ctx, "status: takes no arguments");
		return EXIT_USAGE;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		err_msg(ctx, "out of memory");
		return EXIT_FAIL;
	}
	scan_units(ctx, st);
	scan_groups(ctx, st);
	scan_interrupts(ctx, st);
	snprintf(path, sizeof(path), "%s/sys/firmware/acpi/tables/DMAR", ctx->sysfs);
	st->dmar = sysfs_exists(path);
	snprintf(path, sizeof(path), "%s/sys/firmware/acpi/tables/IVRS", ctx->sysfs);
	st->ivrs = sysfs_exists(path);
	snprintf(path, sizeof(path), "%s/sys/firmware/acpi/tables/VIOT", ctx->sysfs);
	st->viot = sysfs_exists(path);
	if (!ctx->sysfs[0] && vnl_module_loaded()) {
		bool quiet = ctx->quiet;

		/* A module without netlink is reported, not an error. */
		ctx->quiet = true;
		if (vnl_do(ctx, VSTUB_CMD_STATUS_GET, false, NULL, 0,
			   kernel_reply, st, "status"))
			ret = EXIT_FAIL;
		ctx->quiet = quiet;
	}
	make_hints(st);
	if (ctx->json)
		print_json(ctx, st);
	else
		print_human(ctx, st);
	free(st);
	return ret;
}
COMMAND(status, NULL, NULL, cmd_status,
	"Report whether an IOMMU is on (and which), how its groups translate\n"
	"DMA, whether interrupt remapping is on, and what to change if not.\n"
	"Works without the module; with it, adds the kernel's per-device view.");
