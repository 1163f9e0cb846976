# SPDX-License-Identifier: GPL-2.0
#
# Turn vstub_bench output (lines prefixed with "KERNEL,") into a table on
# stdout and an SVG chart of the ratios (file named by -v svg=PATH).
#
#   awk -F, -v svg=bench.svg -f bench/report.awk results.csv
#
# Per case and kernel: vstub's median, the peer's (type1 on Debian's
# kernels, iommufd on the iommufd kernel) and the speed ratio vstub / peer
# (higher is better; for live* and mem* the per-operation cost ratio
# peer / vstub); for map/unmap cases also the floor (bare pin / unpin of the
# same buffer) and vstub's cost as a multiple of it (lower is better; the
# peer's multiple beside it), and the same against io_uring's buffer
# registration (a reference, no target).
#
# Targets, vs type1: map4k >= 1.2, mapthp/maphuge >= 2, unmap* >= 2,
# smallop >= 1.5, vstub's per-op cost at the largest live count within 2x
# of the smallest.  Vs iommufd: ahead (>= 1) on every case, >= 1.5 on
# mapthp/maphuge, >= 1.2 on map4k.  Vs the floor: map4k <= 1.1,
# mapthp/maphuge <= 1.5, unmap* <= 1.2.  A map cost below half the floor's
# is flagged SUSPECT: nothing pins much faster than the bare pin.  (Unmap
# may well beat the floor: the bare unpin walks a page array, a backend that
# keeps contiguous runs unpins a run at a time.)

function target(peer, c) {
	if (peer == "iommufd") {
		if (c == "map4k") return 1.2
		if (c == "mapthp" || c == "maphuge") return 1.5
		return 1
	}
	if (c == "map4k") return 1.2
	if (c == "mapthp" || c == "maphuge") return 2
	if (c ~ /^unmap/) return 2
	if (c == "smallop") return 1.5
	return 0
}

function ftarget(c) {
	if (c == "map4k") return 1.1
	if (c == "mapthp" || c == "maphuge") return 1.5
	if (c ~ /^unmap/) return 1.2
	return 0
}

function fmt(v) { return v == "" ? "-" : v }

$2 == "median" { med[$1, $3, $4] = $5; unit[$3] = $6; seen[$1, $3] = 1
		 if ($4 != "vstub" && $4 != "floor" && $4 != "io_uring") peer[$1] = $4
		 if (!($3 in order)) { order[$3] = ++ncase; cases[ncase] = $3 }
		 if (!($1 in korder)) { korder[$1] = ++nk; kern[nk] = $1 } }
$2 == "ratio"  { ratio[$1, $3] = $5 }
$2 == "cost"   { cost[$1, $3, $4, $5] = $6 }
$2 == "limit"  { limit[$1, $3, $4] = $5 " (" $6 ")" }
$2 == "skip"   { skip[$1, $3] = $4 }

END {
	printf "%-11s %-30s %12s %12s %-8s %8s %6s %-6s | %12s %7s %6s %-7s %7s | %7s\n",
	       "case", "kernel", "vstub", "peer", "(peer)", "ratio", "target",
	       "result", "floor", "x floor", "target", "result", "peer x",
	       "x io_ur"
	for (k = 1; k <= nk; k++) {
		K = kern[k]; P = peer[K]
		for (c = 1; c <= ncase; c++) {
			C = cases[c]
			if (!seen[K, C]) continue
			v = ((K, C, "vstub") in med) ? med[K, C, "vstub"] : "-"
			t = ((K, C, P) in med) ? med[K, C, P] : "-"
			if ((K, C, P) in limit) t = "stopped@" limit[K, C, P]
			r = ((K, C) in ratio) ? ratio[K, C] : "-"
			tg = target(P, C)
			res = ""
			if (tg && r != "-") res = (r + 0 >= tg) ? "met" : "MISSED"
			fl = ((K, C, "floor") in med) ? med[K, C, "floor"] : ""
			fx = cost[K, C, "vstub", "floor"]
			px = cost[K, C, P, "floor"]
			ux = cost[K, C, "vstub", "io_uring"]
			ft = ftarget(C); fres = ""
			if (fx != "") {
				fres = (fx + 0 <= ft) ? "met" : "MISSED"
				if (C ~ /^map/ && fx + 0 < 0.5) fres = "SUSPECT"
			}
			printf "%-11s %-30s %12s %12s %-8s %8s %6s %-6s | %12s %7s %6s %-7s %7s | %7s %s\n",
			       C, K, v, t, P, r, tg ? tg "x" : "", res,
			       fmt(fl), fmt(fx), fx != "" ? "<=" ft "x" : "",
			       fres, fmt(px), fmt(ux), unit[C]
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
			scale[K] = sc
			printf "%-11s %-30s %12s %12s %-8s %8.3f %6s %-6s   (vstub cost at %d / at %d live)\n",
			       "scale", K, "", "", "", sc, "<=2x",
			       sc <= 2 ? "met" : "MISSED", hin, lon
		}
	}
	print "ratio: vstub / peer, higher is better (live*, mem*: peer cost / vstub cost);"
	print "x floor, peer x: cost as a multiple of the bare pin (map) / unpin (unmap), lower is better;"
	print "x io_ur: vstub's cost as a multiple of io_uring's buffer (un)registration."
	if (svg == "") exit
	# One row per (kernel, case) with a peer ratio or a floor multiple;
	# log scale, up to three bars a row.
	n = 0
	for (k = 1; k <= nk; k++) {
		K = kern[k]
		for (c = 1; c <= ncase; c++) {
			C = cases[c]
			if (!((K, C) in ratio) && cost[K, C, "vstub", "floor"] == "") continue
			n++; rk[n] = K; rc[n] = C
			rv[n] = ((K, C) in ratio) ? ratio[K, C] : ""
			rf[n] = cost[K, C, "vstub", "floor"]
			ru[n] = cost[K, C, "vstub", "io_uring"]
		}
		if (K in scale) { n++; rk[n] = K; rc[n] = "scale"; rv[n] = scale[K]; rf[n] = ""; ru[n] = "" }
	}
	lmin = log(0.1); max = 10
	for (i = 1; i <= n; i++) {
		if (rv[i] + 0 > max) max = rv[i] + 0
		if (rf[i] + 0 > max) max = rf[i] + 0
		if (ru[i] + 0 > max) max = ru[i] + 0
	}
	W = 900; L = 330; bh = 9; rh = 3 * bh + 8; H = 90 + n * rh
	sc = (W - L - 60) / (log(max) - lmin)
	print "<svg xmlns='http://www.w3.org/2000/svg' width='" W "' height='" H "' font-family='sans-serif' font-size='11'>" > svg
	print "<rect width='100%' height='100%' fill='white'/>" > svg
	print "<text x='10' y='18' font-size='13'>vstub vs its peer (type1 or iommufd) and vs the floor, log scale</text>" > svg
	print "<rect x='10' y='28' width='10' height='9' fill='#3a7'/><text x='24' y='37'>speed vs peer (higher is better; red: target missed)</text>" > svg
	print "<rect x='330' y='28' width='10' height='9' fill='#47b'/><text x='344' y='37'>cost / floor (lower is better; orange: target missed)</text>" > svg
	print "<rect x='650' y='28' width='10' height='9' fill='#aaa'/><text x='664' y='37'>cost / io_uring</text>" > svg
	for (g = 0.1; g <= max * 1.0001; g *= 10) {
		x = L + (log(g) - lmin) * sc
		print "<line x1='" x "' y1='48' x2='" x "' y2='" H - 10 "' stroke='#bbb' stroke-dasharray='" (g > 0.99 && g < 1.01 ? "none" : "3") "'/>" > svg
		print "<text x='" x + 2 "' y='58' fill='#555'>" g "x</text>" > svg
	}
	for (i = 1; i <= n; i++) {
		y = 66 + (i - 1) * rh
		K = rk[i]; C = rc[i]; P = peer[K]
		printf "<text x='10' y='%d'>%s  %s%s</text>\n", y + 2 * bh, C, K, C == "scale" ? "" : " (vs " P ")" > svg
		if (rv[i] != "") {
			tg = (C == "scale") ? 2 : target(P, C)
			ok = (C == "scale") ? rv[i] + 0 <= 2 : (tg == 0 || rv[i] + 0 >= tg)
			bar(y, rv[i], ok ? "#3a7" : "#d54", tg)
		}
		if (rf[i] != "") {
			tg = ftarget(C)
			bar(y + bh, rf[i], rf[i] + 0 <= tg && (C !~ /^map/ || rf[i] + 0 >= 0.5) ? "#47b" : "#e92", tg)
		}
		if (ru[i] != "")
			bar(y + 2 * bh, ru[i], "#aaa", 0)
	}
	print "</svg>" > svg
}

function bar(y, v, color, tg,    w) {
	w = (log(v > 0.1 ? v : 0.1) - lmin) * sc
	printf "<rect x='%d' y='%d' width='%.1f' height='%d' fill='%s'/>\n", L, y, w, bh - 1, color > svg
	printf "<text x='%.1f' y='%d' font-size='9'>%.2fx</text>\n", L + w + 3, y + bh - 1, v > svg
	if (tg) printf "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='black' stroke-width='2'/>\n", L + (log(tg) - lmin) * sc, y - 1, L + (log(tg) - lmin) * sc, y + bh > svg
}
