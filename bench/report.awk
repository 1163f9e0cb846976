# SPDX-License-Identifier: GPL-2.0
#
# Turn vstub_bench output (lines prefixed with "KERNEL,") into a table on
# stdout and an SVG chart of the ratios (file named by -v svg=PATH).
#
#   awk -F, -v svg=bench.svg -f bench/report.awk results.csv
#
# Targets (ratios vstub / type1, higher is better): map4k >= 1.2,
# mapthp/maphuge >= 2, unmap* >= 2, smallop >= 1.5; and vstub's per-op
# cost at the largest live count within 2x of the smallest.

function target(c) {
	if (c == "map4k") return 1.2
	if (c == "mapthp" || c == "maphuge") return 2
	if (c ~ /^unmap/) return 2
	if (c == "smallop") return 1.5
	return 0
}

$2 == "median" { med[$1, $3, $4] = $5; unit[$3] = $6; seen[$1, $3] = 1
		 if (!($3 in order)) { order[$3] = ++ncase; cases[ncase] = $3 }
		 if (!($1 in korder)) { korder[$1] = ++nk; kern[nk] = $1 } }
$2 == "ratio"  { ratio[$1, $3] = $4 }
$2 == "limit"  { limit[$1, $3, $4] = $5 " (" $6 ")" }
$2 == "skip"   { skip[$1, $3] = $4 }

END {
	printf "%-14s %-24s %14s %14s %9s %7s %s\n", "case", "kernel",
	       "vstub", "type1", "ratio", "target", "result"
	for (k = 1; k <= nk; k++) {
		K = kern[k]
		for (c = 1; c <= ncase; c++) {
			C = cases[c]
			if (!seen[K, C]) continue
			v = ((K, C, "vstub") in med) ? med[K, C, "vstub"] : "-"
			t = ((K, C, "type1") in med) ? med[K, C, "type1"] : "-"
			if ((K, C, "type1") in limit) t = "stopped@" limit[K, C, "type1"]
			r = ((K, C) in ratio) ? ratio[K, C] : "-"
			tg = target(C)
			res = ""
			if (tg && r != "-") res = (r + 0 >= tg) ? "met" : "MISSED"
			printf "%-14s %-24s %14s %14s %9s %7s %s %s\n", C, K,
			       v, t, r, tg ? tg "x" : "", res, unit[C]
		}
		# Scaling of vstub's per-op cost with the number of live mappings.
		lo = ""; hi = ""
		for (c = 1; c <= ncase; c++) {
			C = cases[c]
			if (C !~ /^live/ || !((K, C, "vstub") in med)) continue
			n = substr(C, 5) + 0
			if (lo == "" || n < lon) { lo = med[K, C, "vstub"]; lon = n }
			if (hi == "" || n > hin) { hi = med[K, C, "vstub"]; hin = n }
		}
		if (lo != "" && hin > lon && lo > 0) {
			sc = hi / lo
			ratio[K, "scale"] = sc
			printf "%-14s %-24s %14s %14s %9.3f %7s %s (vstub cost at %d / at %d live)\n",
			       "scale", K, "", "", sc, "<=2x",
			       sc <= 2 ? "met" : "MISSED", hin, lon
		}
	}
	if (svg == "") exit
	# One row per (case, kernel) that has a ratio.
	n = 0
	for (k = 1; k <= nk; k++)
		for (c = 1; c <= ncase; c++)
			if ((kern[k], cases[c]) in ratio) {
				n++; rk[n] = kern[k]; rc[n] = cases[c]
				rv[n] = ratio[kern[k], cases[c]]
			}
	max = 2.5
	for (i = 1; i <= n; i++) if (rv[i] + 0 > max) max = rv[i] + 0
	W = 760; L = 260; bh = 18; H = 60 + n * (bh + 6)
	sc = (W - L - 40) / max
	print "<svg xmlns='http://www.w3.org/2000/svg' width='" W "' height='" H "' font-family='sans-serif' font-size='12'>" > svg
	print "<rect width='100%' height='100%' fill='white'/>" > svg
	print "<text x='10' y='20' font-size='14'>vstub / vfio_iommu_type1 (higher is better; scale: lower is better)</text>" > svg
	x1 = L + sc
	print "<line x1='" x1 "' y1='30' x2='" x1 "' y2='" H - 10 "' stroke='#888' stroke-dasharray='4'/>" > svg
	print "<text x='" x1 + 3 "' y='42' fill='#555'>1x</text>" > svg
	for (i = 1; i <= n; i++) {
		y = 50 + (i - 1) * (bh + 6)
		tg = target(rc[i])
		ok = (tg == 0) || (rv[i] + 0 >= tg)
		if (rc[i] == "scale") ok = rv[i] + 0 <= 2
		color = ok ? "#3a7" : "#d54"
		printf "<text x='10' y='%d'>%s  %s</text>\n", y + 13, rc[i], rk[i] > svg
		printf "<rect x='%d' y='%d' width='%.1f' height='%d' fill='%s'/>\n", L, y, rv[i] * sc, bh, color > svg
		printf "<text x='%.1f' y='%d'>%.2fx</text>\n", L + rv[i] * sc + 4, y + 13, rv[i] > svg
		if (tg) printf "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='black' stroke-width='2'/>\n", L + tg * sc, y - 2, L + tg * sc, y + bh + 2 > svg
	}
	print "</svg>" > svg
}
