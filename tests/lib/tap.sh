# tap_run NAME CMD...: run a TAP producer (a cmocka binary with
# CMOCKA_MESSAGE_OUTPUT=TAP) and turn its output into the runner's PASS and
# FAIL lines.  Besides each "not ok", a run fails when the program exits
# non-zero or dies of a signal, prints no plan or more than one, or reports
# fewer or more tests than its plan announced.
tap_run() {
        local name=$1 out rc plan=0 plans=0 seen=0 line
        shift
        out=$(mktemp)
        CMOCKA_MESSAGE_OUTPUT=TAP "$@" > "$out" 2>&1
        rc=$?
        while IFS= read -r line; do
                case "$line" in
                [0-9]*..[0-9]*)
                        plans=$((plans + 1))
                        plan=${line#*..} ;;
                "ok "*)
                        seen=$((seen + 1))
                        echo "PASS $name/${line#ok * - }" ;;
                "not ok "*)
                        seen=$((seen + 1))
                        echo "FAIL $name/${line#not ok * - }: see the lines after it" ;;
                *) echo "   $line" ;;
                esac
        done < "$out"
        rm -f "$out"
        if [ $rc -gt 128 ]; then
                echo "FAIL $name: the program died of signal $((rc - 128)) ($(kill -l $((rc - 128)) 2>/dev/null))"
        elif [ $rc != 0 ]; then
                echo "FAIL $name: the program exited with status $rc"
        fi
        if [ $plans != 1 ]; then
                echo "FAIL $name: $plans TAP plans where one was expected"
        elif [ $seen != "$plan" ]; then
                echo "FAIL $name: the plan announced $plan tests, $seen reported"
        fi
}
