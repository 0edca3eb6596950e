# bench/run's report: medians and spread per workload and contender, the
# ratios against the reference and the issue's goals, from $out/runs.jsonl;
# writes $out/results.json, prints a Markdown table and plots latency
# against offered load ($out/latency.png). Sourced by bench/run.

# The summary of runs.jsonl: for each (workload, contender) of the closed-
# loop runs, n, median, min and max of its figure (requests/s; seconds for
# crl_regenerate), and the median p99 latency.
summarize() {
  jq -s '
    def median: sort | if length == 0 then null
      else (if length % 2 == 1 then .[(length - 1) / 2]
            else (.[length / 2 - 1] + .[length / 2]) / 2 end) end;
    def figure: if .workload == "crl_regenerate" then .seconds else .rps end;
    [.[] | select((.offered // 0) == 0 and .workload != "crl_8_parallel_gets")]
    | group_by([.workload, .contender])
    | map({workload: .[0].workload, contender: .[0].contender, n: length,
           median: (map(figure) | median), min: (map(figure) | min),
           max: (map(figure) | max),
           p99_us: (map(.p99_us // empty) | median),
           max_rss_kb: (map(.max_rss_kb // empty) | median),
           ttfb_ms: (map(.ttfb_ms // empty) | median),
           new_served_after_ms: (map(.new_served_after_ms // empty) | median),
           der_bytes: (map(.der_bytes // empty) | median),
           load1: (map(.load1) | median)})' "$out/runs.jsonl"
}

# workload, contender ("certctl"), reference contender, goal text, and
# whether a larger figure is better: one row of ratios.
ratios() {
  jq -n --slurpfile s "$out/summary.json" '
    def row($w; $a; $b; $goal; $higher):
      ($s[0] | map(select(.workload == $w)) | INDEX(.contender)) as $g
      | if ($g[$a] and $g[$b]) then
          {workload: $w, certctl: $g[$a].median, reference: $g[$b].median,
           reference_name: $b,
           ratio: ($g[$a].median / $g[$b].median),
           spread: {certctl: [$g[$a].min, $g[$a].max], reference: [$g[$b].min, $g[$b].max]},
           p99_us: {certctl: $g[$a].p99_us, reference: $g[$b].p99_us},
           goal: $goal, higher_is_better: $higher}
        else empty end;
    [row("ocsp_get"; "certctl"; "openssl"; "≥ 5×"; true),
     row("ocsp_get_close"; "certctl"; "openssl"; "≥ 2.5×"; true),
     row("ocsp_post"; "certctl"; "openssl"; "≥ 5×"; true),
     row("ocsp_post_nonce"; "certctl"; "openssl"; "≥ 2×"; true),
     row("ocsp_first"; "certctl"; "openssl"; "≥ 1.5×"; true),
     row("ocsp_serial_vs_get"; "certctl-serial"; "certctl"; "≥ 0.9× (within 10%)"; true),
     row("http_ceiling"; "certctl"; "nginx"; "≥ 0.7×"; true),
     row("crl_regenerate"; "certctl"; "openssl"; "≤ 0.35× (time)"; false)]'
}

report() {
  summarize > "$out/summary.json"
  ratios > "$out/ratios.json"
  local speed
  speed=$(cat "$out/speed.json" 2> /dev/null || echo null)
  jq -n --argjson machine "$(cat "$out/machine.json")" --arg load_end "$(cut -d' ' -f1-3 /proc/loadavg)" \
    --argjson settings "$settings" --slurpfile summary "$out/summary.json" \
    --slurpfile ratios "$out/ratios.json" --argjson speed "$speed" \
    --slurpfile runs "$out/runs.jsonl" \
    '{machine: ($machine + {load_at_end: $load_end}), settings: $settings,
      openssl_speed_ecdsap256: $speed, ratios: $ratios[0], summary: $summary[0],
      runs: $runs}' > "$out/results.json"
  print_table
  plot_latency
}

print_table() {
  jq -r '
    def f: if . == null then "–" elif . >= 100 then (. | floor | tostring)
           else ((. * 100 | round) / 100 | tostring) end;
    (if (.ratios | length) > 0 then
      "| workload | certctl | reference | certctl / reference | spread certctl, reference | p99 certctl, reference (ms) | goal |",
      "|---|---|---|---|---|---|---|"
     else empty end),
    (.ratios[] | "| \(.workload) | \(.certctl | f) | \(.reference | f) (\(.reference_name)) | **\(.ratio | f)×** | \(.spread.certctl[0] | f)–\(.spread.certctl[1] | f), \(.spread.reference[0] | f)–\(.spread.reference[1] | f) | \(if .p99_us.certctl then "\(.p99_us.certctl / 1000 | f), \(.p99_us.reference / 1000 | f)" else "–" end) | \(.goal) |"),
    "",
    "Figures: requests/s (medians of \(.settings.rounds) rounds of \(.settings.seconds) s, \(.settings.connections) connections), seconds for crl_regenerate.",
    "",
    (.summary[] | select(.workload == "issuance") | "- issuance through the API: \(.median | f) certificates/s (goal ≥ 1000), p99 \(.p99_us / 1000 | f) ms"),
    (.summary[] | select(.workload == "crl_regenerate")
     | "- crl_regenerate \(.contender): \(.median | f) s, peak RSS \(.max_rss_kb / 1024 | f) MB, \(.der_bytes / 1048576 | f) MB DER" +
       (if .ttfb_ms then "; GET right after: first byte \(.ttfb_ms | f) ms, new CRL served after \(.new_served_after_ms | f) ms (goal ≤ 100 ms)" else "" end)),
    (.runs[] | select(.workload == "crl_8_parallel_gets")
     | "- 8 parallel GETs of the CRL: RSS \(.rss_before_kb / 1024 | f) → \(.rss_peak_kb / 1024 | f) MB, rise \(.rise_of_crl_size * 100 | f)% of the CRL size (goal < 10%)"),
    (if .openssl_speed_ecdsap256 then
       (.openssl_speed_ecdsap256 as $s | .summary[] | select(.workload == "ocsp_post_nonce")
        | "- ocsp_post_nonce \(.contender): \(.median | f)/s = \(.median / $s.sign_per_s * 100 | f)% of one core’s `openssl speed ecdsap256` (\($s.sign_per_s | f) sign/s)")
     else empty end),
    "",
    "Machine: \(.machine.nproc) × \(.machine.cpu); load \(.machine.load_at_start) at start, \(.machine.load_at_end) at end; \(.machine.date), commit \(.machine.commit)."
  ' "$out/results.json"
}

# p50 and p99 against achieved requests/s for the sweep runs (offered > 0).
plot_latency() {
  local w c any=0
  for w in ocsp_get ocsp_post ocsp_post_nonce; do
    for c in certctl openssl; do
      jq -r --arg w "$w" --arg c "$c" \
        'select(.workload == $w and .contender == $c and .offered > 0)
         | "\(.rps) \(.p50_us / 1000) \(.p99_us / 1000)"' "$out/runs.jsonl" |
        sort -n > "$out/latency-$w-$c.dat"
      [[ -s $out/latency-$w-$c.dat ]] && any=1
    done
  done
  ((any)) || return 0
  gnuplot -e "dir='$out'" "$suite/latency.gp" || log "warning: gnuplot failed"
}
