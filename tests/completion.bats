#!/usr/bin/env bats
# bash completion (launcher/cpmp.bash, installed as
# share/bash-completion/completions/cpmp): called as bash calls it, with
# COMP_WORDS and COMP_CWORD set, without the bash-completion package.

load test_helper

setup() {
    cd "$BATS_TEST_TMPDIR" || return
    # shellcheck source=/dev/null  # launcher/cpmp.bash: lint.bats checks it on its own
    source "$BATS_TEST_DIRNAME/../launcher/cpmp.bash"
    mkdir pkg
    touch app.py tool.pyz notes.txt
}

# offers WORD...: what completing the last word offers, sorted, on one line.
offers() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMPREPLY=()
    _cpmp
    printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd ' '
}

@test "sourcing it registers _cpmp for cpmp, which completes the commands and the top-level options" {
    run -0 complete -p cpmp
    assert_output "complete -F _cpmp cpmp"
    run -0 offers cpmp ""
    assert_output "doctor env exec help kernel run"
    run -0 offers cpmp e
    assert_output "env exec"
    run -0 offers cpmp --
    assert_output "--help --version"
    run -0 offers cpmp help ""
    assert_output "doctor env exec kernel run"
}

@test "cpmp run completes cpmp's and python3's options, then scripts, then any file for the program" {
    run -0 offers cpmp run --tr
    assert_output "--trace"
    run -0 offers cpmp run --quiet -
    assert_line --partial "--by-value --check-hash-based-pycs --cluster --disable --help"
    assert_line --partial " -X "
    # The script: directories and Python files.
    run -0 offers cpmp run --quiet ""
    assert_output "app.py pkg tool.pyz"
    run -0 offers cpmp run -X dev --by-value mytools ""
    assert_output "app.py pkg tool.pyz"
    # After the script, -m MODULE or -c CODE every word is the program's.
    run -0 offers cpmp run app.py ""
    assert_output "app.py notes.txt pkg tool.pyz"
    run -0 offers cpmp run -m pkg --tr
    assert_output ""
    run -0 offers cpmp run -c pass n
    assert_output "notes.txt"
}

@test "an option's value is completed in --opt VALUE, --opt=VALUE and bash's split --opt = VALUE" {
    run -0 offers cpmp run --trace=n
    assert_output "--trace=notes.txt"
    run -0 offers cpmp run --trace = n
    assert_output "notes.txt"
    run -0 offers cpmp exec --cluster l
    assert_output "local local:"
    run -0 offers cpmp run --python ./a
    assert_output "./app.py"
    run -0 offers cpmp run --python = ./a
    assert_output "./app.py"
    # --by-value names modules: nothing is guessed.
    run -0 offers cpmp run --by-value a
    assert_output ""
}

@test "cpmp exec completes its options, then a command, then the command's arguments" {
    run -0 offers cpmp exec --q
    assert_output "--quiet"
    run -0 offers cpmp exec -
    assert_output "-- --by-value --cluster --disable --help --python --quiet --trace"
    run -0 offers cpmp exec -- bat
    assert_line --regexp '(^| )bats( |$)'
    run -0 offers cpmp exec --trace=x bat
    assert_line --regexp '(^| )bats( |$)'
    run -0 offers cpmp exec -- python3 n
    assert_output "notes.txt"
    # With bash-completion, the command's own completion takes over.
    _command_offset() { COMPREPLY=("offset $1 ${COMP_WORDS[$1]}"); }
    run -0 offers cpmp exec --quiet -- python3 -
    assert_output "offset 4 python3"
}

@test "cpmp env, doctor and kernel complete their own options" {
    run -0 offers cpmp env --d
    assert_output "--disable"
    run -0 offers cpmp env ""
    assert_output ""
    run -0 offers cpmp doctor --
    assert_output "--cluster --help --json --python"
    run -0 offers cpmp doctor --python ./a
    assert_output "./app.py"
    run -0 offers cpmp kernel ""
    assert_output "install uninstall"
    run -0 offers cpmp kernel install --
    assert_output "--display-name --help --name --prefix --user"
    run -0 offers cpmp kernel uninstall --user --
    assert_output "--help --name --prefix --user"
    run -0 offers cpmp kernel install --prefix p
    assert_output "pkg"
}
