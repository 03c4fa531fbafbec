# bench/report.awk: turns the RESULT and MEM lines that bench/run.sh
# collects into the suite's table, each service operation with its ratio to
# its baseline, and the targets of issue 8 checked against them.
#
# Baselines: the nng echo (same transport and callers, small scale) for
# every service op; the direct PostgreSQL lookup (same scale, 64 clients)
# for the cold check at 64 callers.

# kv splits "RESULT k=v k=v ..." into arr; numbers become numbers, so that
# comparisons are numeric.
function kv(line, arr,    n, i, parts, eq, v) {
	delete arr
	n = split(line, parts, " ")
	for (i = 2; i <= n; i++) {
		eq = index(parts[i], "=")
		if (eq == 0)
			continue
		v = substr(parts[i], eq + 1)
		if (v ~ /^-?[0-9]+(\.[0-9]+)?$/)
			v += 0
		arr[substr(parts[i], 1, eq - 1)] = v
	}
}

function us(v) {
	return v >= 10000 ? sprintf("%.1fms", v / 1000) : sprintf("%.0f", v)
}

function ratio(a, b) {
	return b > 0 ? sprintf("%.2f", a / b) : "-"
}

function verdict(ok) {
	return ok ? "met" : "NOT MET"
}

/^RESULT / {
	kv($0, f)
	name = f["op"]
	if (f["distinct"] == 1)
		name = name "/first-touch"
	if (f["tag"] != "")
		name = name "/" f["tag"]
	key = f["scale"] "|" name "|" f["transport"] "|" f["conc"]
	n++
	order[n] = key
	scale[key] = f["scale"]; op[key] = name; base_op[key] = f["op"]
	tr[key] = f["transport"]; conc[key] = f["conc"]; tool[key] = f["tool"]
	ops[key] = f["ops_s"]; p50[key] = f["p50_us"]; p99[key] = f["p99_us"]
	p999[key] = f["p999_us"]; errs[key] = f["errors"] + f["item_errors"]
	dec[key] = f["decisions_s"]; wrapped[key] = f["wrapped"]
	misses[key] = f["cache_misses"]; hits[key] = f["cache_hits"]
	grouped[key] = f["grouped"]
	p50ns[key] = f["p50_ns"]; p99ns[key] = f["p99_ns"]
	lhits[key] = f["local_hits"]; lentries[key] = f["local_entries"]
	lrss[key] = f["warm_rss_kib"]; opcpu[key] = f["ops_per_cpu_s"]
	if (f["hz"] != "") {
		# CPU per request, in microseconds (ticks at hz a second).
		total = f["ops"] > 0 ? f["ops"] : 1
		cpu_d[key] = f["cpu_daemon"] * 1e6 / f["hz"] / total
		cpu_p[key] = f["cpu_primary"] * 1e6 / f["hz"] / total
		cpu_s[key] = f["cpu_standby"] * 1e6 / f["hz"] / total
		standby[key] = f["standby_reads"] / total
	}
	next
}

/^MEM / {
	kv($0, f)
	mem_n++
	mem[mem_n] = $0
	rss_kib[f["at"]] = f["VmRSS_kib"]
	entries[f["at"]] = f["cache_entries"]
	next
}

END {
	printf "%-5s %-26s %-4s %4s %10s %9s %9s %9s  %-14s %6s %6s %6s  %s\n",
	    "scale", "op", "tr", "c", "ops/s", "p50 us", "p99 us",
	    "p99.9 us", "baseline", "thr x", "p50 x", "p99 x", "notes"
	for (i = 1; i <= n; i++) {
		k = order[i]
		b = ""
		if (op[k] == "check-cold" && conc[k] == 64)
			b = scale[k] "|pg-lookup|unix|64"
		else if (base_op[k] != "echo" && tool[k] == "exa-bench")
			b = "small|echo|" tr[k] "|" conc[k]
		bname = "-"
		if (b != "" && (b in ops))
			bname = (b ~ /pg-lookup/) ? "pg-direct c64" : "echo"
		else
			b = ""
		notes = ""
		if (dec[k] != "")
			notes = notes sprintf("%.0f decisions/s ", dec[k])
		if (errs[k] > 0)
			notes = notes "ERRORS=" errs[k] " "
		if (hits[k] != "" && op[k] !~ /first-touch/)
			notes = notes "cache-hits=" hits[k] " "
		if (misses[k] != "" && op[k] !~ /first-touch/)
			notes = notes "cache-misses=" misses[k] " "
		if (grouped[k] != "")
			notes = notes "grouped=" grouped[k] " "
		if (wrapped[k] == 1 && op[k] ~ /first-touch/)
			notes = notes "population-wrapped "
		printf "%-5s %-26s %-4s %4d %10.0f %9s %9s %9s  %-14s %6s %6s %6s  %s\n",
		    scale[k], op[k], tr[k], conc[k], ops[k], us(p50[k]),
		    us(p99[k]), us(p999[k]), bname,
		    b != "" ? ratio(ops[k], ops[b]) : "-",
		    b != "" ? ratio(p50[k], p50[b]) : "-",
		    b != "" ? ratio(p99[k], p99[b]) : "-", notes
	}

	print ""
	print "Targets of issue 8 (measured, not asserted):"
	for (ti = 1; ti <= 2; ti++) {
		t = ti == 1 ? "ipc" : "tcp"
		for (ci = 1; ci <= 2; ci++) {
			c = ci == 1 ? 8 : 64
			k = "small|check-cached|" t "|" c
			e = "small|echo|" t "|" c
			if (!(k in ops) || !(e in ops))
				continue
			printf "  cached Check %s c=%-2d throughput >= 0.80 x echo: %.2f  %s\n",
			    t, c, ops[k] / ops[e], verdict(ops[k] >= 0.8 * ops[e])
			printf "  cached Check %s c=%-2d p99 <= 1.5 x echo:         %.2f  %s\n",
			    t, c, p99[k] / p99[e], verdict(p99[k] <= 1.5 * p99[e])
		}
		k = "small|check-cached|" t "|1"
		e = "small|echo|" t "|1"
		if ((k in ops) && (e in ops))
			printf "  cached Check %s c=1  p50 <= 1.2 x echo:         %.2f  %s\n",
			    t, p50[k] / p50[e], verdict(p50[k] <= 1.2 * p50[e])
		k = "small|check-cold|" t "|8"
		e = "small|echo|" t "|8"
		if ((k in ops) && (e in ops))
			printf "  cold Check   %s c=8  throughput >= 0.60 x echo: %.2f  %s\n",
			    t, ops[k] / ops[e], verdict(ops[k] >= 0.6 * ops[e])
		for (si = 1; si <= 2; si++) {
			s = si == 1 ? "small" : "large"
			k = s "|check-cold|" t "|64"
			g = s "|pg-lookup|unix|64"
			if ((k in ops) && (g in ops))
				printf "  cold Check   %s c=64 (%s) >= pg-direct c=64: %.2f  %s\n",
				    t, s, ops[k] / ops[g], verdict(ops[k] >= ops[g])
		}
		k = "small|batch100|" t "|8"
		if (k in ops)
			printf "  BatchCheck(100) %s c=8 >= 1,000,000 decisions/s: %.0f  %s\n",
			    t, dec[k], verdict(dec[k] >= 1000000)
	}
	split("1 8 64", cs, " ")
	for (ci = 1; ci <= 3; ci++) {
		c = cs[ci]
		split("check-cached check-cold", names, " ")
		for (ni = 1; ni <= 2; ni++) {
			k = "large|" names[ni] "|ipc|" c
			s = "small|" names[ni] "|ipc|" c
			if ((k in ops) && (s in ops))
				printf "  %-12s ipc c=%-2d large >= 0.80 x small: %.2f  %s\n",
				    names[ni], c, ops[k] / ops[s],
				    verdict(ops[k] >= 0.8 * ops[s])
		}
	}
	if ("large_filled" in rss_kib)
		printf "  exe-accessd resident with %s cache entries < 512 MiB: %.0f MiB  %s\n",
		    entries["large_filled"], rss_kib["large_filled"] / 1024,
		    verdict(rss_kib["large_filled"] < 512 * 1024 && \
		        entries["large_filled"] >= 1000000)
	local_table()
	replica_table()
	if (mem_n > 0) {
		print ""
		for (i = 1; i <= mem_n; i++)
			print "# " mem[i]
	}
}

# replica_table: each cold read on the primary alone next to the same read
# on a daemon that also reads a hot standby, with the CPU each process
# spent per request (the load generator's is not counted).
function replica_table(    i, k, w, name, shown) {
	for (i = 1; i <= n; i++) {
		k = order[i]
		if (scale[k] != "replica" || op[k] !~ /\/primary-only$/)
			continue
		name = op[k]
		sub(/\/primary-only$/, "", name)
		w = "replica|" name "/replica|" tr[k] "|" conc[k]
		if (!(w in ops))
			continue
		if (!shown) {
			print ""
			print "Read replica (cache-less daemons, ipc; CPU us per request: daemon, primary, standby):"
			printf "  %-17s %3s  %9s %8s %8s %-18s  %9s %8s %8s %-18s %7s %5s\n",
			    "op", "c", "alone/s", "p50 us", "p99 us", "cpu d/p/s",
			    "+standby/s", "p50 us", "p99 us", "cpu d/p/s",
			    "on stby", "thr x"
			shown = 1
		}
		printf "  %-17s %3d  %9.0f %8s %8s %-18s  %9.0f %8s %8s %-18s %6.0f%% %5s\n",
		    name, conc[k], ops[k], us(p50[k]), us(p99[k]),
		    sprintf("%.0f/%.0f/%.0f", cpu_d[k], cpu_p[k], cpu_s[k]),
		    ops[w], us(p50[w]), us(p99[w]),
		    sprintf("%.0f/%.0f/%.0f", cpu_d[w], cpu_p[w], cpu_s[w]),
		    100 * standby[w], ratio(ops[w], ops[k])
	}
}

# local_table: the client's local cache, beside the cached Check over the
# wire (the same daemon, ipc): in-process checks and a change's
# propagation to a caching client.
function local_table(    i, k, w, shown, one, per) {
	for (i = 1; i <= n; i++) {
		k = order[i]
		if (base_op[k] != "check-local" && base_op[k] != "propagation")
			continue
		if (!shown) {
			print ""
			print "The client's local cache (ipc; one client shared by the callers):"
			printf "  %-22s %3s %12s %12s %9s %9s %9s  %s\n", "op", "c",
			    "ops/s", "ops/cpu-s", "p50", "p99", "p99.9",
			    "vs cached Check over the wire"
			shown = 1
		}
		if (base_op[k] == "check-local") {
			w = "small|check-cached|ipc|" conc[k]
			printf "  %-22s %3d %12.0f %12.0f %7.0fns %7.0fns %7.1fus  %s\n",
			    op[k], conc[k], ops[k], opcpu[k], p50ns[k], p99ns[k], p999[k],
			    (w in ops) ? sprintf("%.0fx throughput, p50 %s us there",
			        ops[k] / ops[w], us(p50[w])) : "-"
			if (conc[k] == 1)
				one = k
			if (lentries[k] > 0 && lrss[k] > 0)
				per = lrss[k] * 1024 / lentries[k]
		} else {
			printf "  %-22s %3d %12s %12s %7.2fms %7.2fms %7.2fms  commit (the write's reply) to the client's cache\n",
			    op[k], conc[k], "-", "-", p50[k] / 1000, p99[k] / 1000,
			    p999[k] / 1000
		}
	}
	if (!shown)
		return
	print ""
	print "Targets of issue 14 (measured, not asserted):"
	if (one != "") {
		printf "  local Check c=1 >= 5,000,000 checks/s: %.0f  %s (%.0f a CPU-second of the whole process)\n",
		    ops[one], verdict(ops[one] >= 5000000), opcpu[one]
		printf "  local Check c=1 p99 <= 2 us: %.0f ns  %s\n",
		    p99ns[one], verdict(p99ns[one] <= 2000)
	}
	k = "small|propagation/hints|ipc|1"
	if (k in ops) {
		printf "  propagation median <= 5 ms: %.2f ms  %s\n",
		    p50[k] / 1000, verdict(p50[k] <= 5000)
		printf "  propagation p99 <= 50 ms: %.2f ms  %s\n",
		    p99[k] / 1000, verdict(p99[k] <= 50000)
	}
	if (per > 0)
		printf "  client memory per cached entry (warm-up RSS / entries): %.0f bytes\n", per
}
