// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_ids.c - the vendor:device ID table.
 *
 * IDs use pci-stub's syntax:
 *   vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]
 * all hexadecimal; omitted fields match anything (class_mask defaults to
 * 0 which makes the class match anything too).
 */
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "vstub.h"

/* vstub_ids_lock protects vstub_ids (the list and every entry on it). */
static DEFINE_MUTEX(vstub_ids_lock);
static LIST_HEAD(vstub_ids);

/* Parse one hexadecimal field that must fit in @max. */
static int vstub_id_field(const char *s, size_t n, u32 max, u32 *out)
{
	char tmp[9];
	unsigned long v;

	if (!n || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (kstrtoul(tmp, 16, &v) || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/**
 * vstub_id_parse - parse one ID in pci-stub syntax
 * @str: the text; surrounding whitespace (e.g. a trailing newline) is ignored
 * @id:  filled on success
 *
 * Return: 0, or -EINVAL when @str is not a well-formed ID.
 */
int vstub_id_parse(const char *str, struct pci_device_id *id)
{
	static const u32 max[] = { 0xffff, 0xffff, U32_MAX, U32_MAX,
				   0xffffff, 0xffffff };
	u32 val[ARRAY_SIZE(max)];
	const char *p, *end;
	unsigned int i, nf = 0;
	int ret;

	str = skip_spaces(str);
	end = str + strlen(str);
	while (end > str && isspace(end[-1]))
		end--;
	if (end == str)
		return -EINVAL;

	for (p = str; p <= end; nf++) {
		const char *c = memchr(p, ':', end - p);

		if (!c)
			c = end;
		if (nf >= ARRAY_SIZE(max))
			return -EINVAL;
		ret = vstub_id_field(p, c - p, max[nf], &val[nf]);
		if (ret)
			return ret;
		p = c + 1;
	}
	if (nf < 2)
		return -EINVAL;

	memset(id, 0, sizeof(*id));
	id->vendor = val[0];
	id->device = val[1];
	id->subvendor = PCI_ANY_ID;
	id->subdevice = PCI_ANY_ID;
	for (i = 2; i < nf; i++) {
		switch (i) {
		case 2:
			id->subvendor = val[i];
			break;
		case 3:
			id->subdevice = val[i];
			break;
		case 4:
			id->class = val[i];
			break;
		case 5:
			id->class_mask = val[i];
			break;
		}
	}
	/* A class without a mask means "exactly this class". */
	if (nf == 5)
		id->class_mask = 0xffffff;
	return 0;
}

static bool vstub_id_equal(const struct pci_device_id *a,
			   const struct pci_device_id *b)
{
	return a->vendor == b->vendor && a->device == b->device &&
	       a->subvendor == b->subvendor && a->subdevice == b->subdevice &&
	       a->class == b->class && a->class_mask == b->class_mask;
}

static struct vstub_id *vstub_id_find(const struct pci_device_id *id)
{
	struct vstub_id *e;

	lockdep_assert_held(&vstub_ids_lock);
	list_for_each_entry(e, &vstub_ids, node)
		if (vstub_id_equal(&e->id, id))
			return e;
	return NULL;
}

/**
 * vstub_id_add - add an ID to the table
 * @id: the ID
 *
 * Return: 0, -EEXIST if the same ID is present, -ENOMEM.
 */
int vstub_id_add(const struct pci_device_id *id)
{
	struct vstub_id *e;
	int ret = 0;

	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->id = *id;

	mutex_lock(&vstub_ids_lock);
	if (vstub_id_find(id))
		ret = -EEXIST;
	else
		list_add_tail(&e->node, &vstub_ids);
	mutex_unlock(&vstub_ids_lock);

	if (ret)
		kfree(e);
	return ret;
}

/**
 * vstub_id_del - remove an ID from the table
 * @id: the ID, compared field by field
 *
 * Devices already captured through the ID stay captured.
 * Return: 0 or -ENOENT.
 */
int vstub_id_del(const struct pci_device_id *id)
{
	struct vstub_id *e;

	mutex_lock(&vstub_ids_lock);
	e = vstub_id_find(id);
	if (e)
		list_del(&e->node);
	mutex_unlock(&vstub_ids_lock);

	if (!e)
		return -ENOENT;
	kfree(e);
	return 0;
}

static bool vstub_id_match_one(const struct pci_device_id *id,
			       const struct pci_dev *pdev)
{
	return (id->vendor == PCI_ANY_ID || id->vendor == pdev->vendor) &&
	       (id->device == PCI_ANY_ID || id->device == pdev->device) &&
	       (id->subvendor == PCI_ANY_ID ||
		id->subvendor == pdev->subsystem_vendor) &&
	       (id->subdevice == PCI_ANY_ID ||
		id->subdevice == pdev->subsystem_device) &&
	       !((id->class ^ pdev->class) & id->class_mask);
}

/* Does @pdev match an entry of the table? */
bool vstub_id_match(struct pci_dev *pdev)
{
	struct vstub_id *e;
	bool match = false;

	mutex_lock(&vstub_ids_lock);
	list_for_each_entry(e, &vstub_ids, node) {
		if (vstub_id_match_one(&e->id, pdev)) {
			match = true;
			break;
		}
	}
	mutex_unlock(&vstub_ids_lock);
	return match;
}

/**
 * vstub_id_format - print an ID in the syntax vstub_id_parse() accepts
 * @id:  the ID
 * @buf: output
 * @len: size of @buf
 *
 * Fields that match anything at the end are left out.
 * Return: the number of characters written (as scnprintf).
 */
int vstub_id_format(const struct pci_device_id *id, char *buf, size_t len)
{
	int n = scnprintf(buf, len, "%04x:%04x", id->vendor, id->device);

	if (id->subvendor != PCI_ANY_ID || id->subdevice != PCI_ANY_ID ||
	    id->class_mask)
		n += scnprintf(buf + n, len - n, ":%04x:%04x",
			       id->subvendor, id->subdevice);
	if (id->class_mask)
		n += scnprintf(buf + n, len - n, ":%06x:%06x",
			       id->class, id->class_mask);
	return n;
}

/* One ID per line into @buf (a sysfs page). */
ssize_t vstub_ids_show(char *buf, size_t len)
{
	struct vstub_id *e;
	ssize_t n = 0;

	mutex_lock(&vstub_ids_lock);
	list_for_each_entry(e, &vstub_ids, node) {
		n += vstub_id_format(&e->id, buf + n, len - n);
		n += scnprintf(buf + n, len - n, "\n");
	}
	mutex_unlock(&vstub_ids_lock);
	return n;
}

/* Number of IDs in the table. */
unsigned int vstub_ids_count(void)
{
	struct vstub_id *e;
	unsigned int n = 0;

	mutex_lock(&vstub_ids_lock);
	list_for_each_entry(e, &vstub_ids, node)
		n++;
	mutex_unlock(&vstub_ids_lock);
	return n;
}

/* Copy the @n-th ID (from 0) into @id; -ENOENT past the end. */
int vstub_id_nth(unsigned int n, struct pci_device_id *id)
{
	struct vstub_id *e;
	int ret = -ENOENT;

	mutex_lock(&vstub_ids_lock);
	list_for_each_entry(e, &vstub_ids, node) {
		if (!n--) {
			*id = e->id;
			ret = 0;
			break;
		}
	}
	mutex_unlock(&vstub_ids_lock);
	return ret;
}

void vstub_ids_clear(void)
{
	struct vstub_id *e, *tmp;

	mutex_lock(&vstub_ids_lock);
	list_for_each_entry_safe(e, tmp, &vstub_ids, node) {
		list_del(&e->node);
		kfree(e);
	}
	mutex_unlock(&vstub_ids_lock);
}

static char *ids;
module_param(ids, charp, 0444);
MODULE_PARM_DESC(ids,
		 "IDs to capture at load: vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] in hex, comma-separated");

/*
 * Add the IDs given at load time.  A malformed or duplicate entry is
 * reported by name and skipped; the others still apply.
 */
void vstub_ids_param_apply(void)
{
	struct pci_device_id id;
	char *buf, *p, *entry;
	char txt[64];
	int ret;

	if (!ids || !*ids)
		return;
	buf = kstrdup(ids, GFP_KERNEL);
	if (!buf) {
		pr_err("ids: out of memory, no ID added\n");
		return;
	}
	p = buf;
	while ((entry = strsep(&p, ","))) {
		if (!*entry)
			continue;
		if (vstub_id_parse(entry, &id)) {
			pr_err("ids: ignoring malformed entry \"%s\" (expected vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] in hex)\n",
			       entry);
			continue;
		}
		ret = vstub_id_add(&id);
		vstub_id_format(&id, txt, sizeof(txt));
		if (ret == -EEXIST)
			pr_warn("ids: duplicate entry \"%s\" ignored\n", entry);
		else if (ret)
			pr_err("ids: cannot add \"%s\": %d\n", entry, ret);
		else
			pr_info("capturing devices with ID %s\n", txt);
	}
	kfree(buf);
}
