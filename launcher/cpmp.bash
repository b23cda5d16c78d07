# bash completion for cpmp: its commands, each command's options, files
# after `cpmp run`, commands after `cpmp exec --`.  Installed as
# share/bash-completion/completions/cpmp; works without the
# bash-completion package too (source it), which only adds the completion
# of a command's own arguments after `cpmp exec CMD`.

# cpmp's own options, for run, exec and env; those that take a value.
_cpmp_options="--by-value --cluster --disable --python --quiet --trace --help"
_cpmp_valued="--by-value --cluster --python"
# python3's, for cpmp run; those that take the next word.
_cpmp_python_options="-b -B -c -d -E -h -i -I -m -O -OO -P -q -s -S -u -v -V -W -x -X
--check-hash-based-pycs --help-env --help-xoptions --help-all --version"
_cpmp_python_valued="-W -X --check-hash-based-pycs"

# Add the words of list ($1) that start with the word being completed.
_cpmp_add() {
    local IFS=$' \t\n'
    # shellcheck disable=SC2207  # compgen prints one word a line
    COMPREPLY+=($(compgen -W "$1" -- "$cur"))
}

# Add file names: $1 is a compgen action (-f files, -d directories, -c
# commands), $2 an optional -X filter.
_cpmp_add_names() {
    local IFS=$'\n' args=("$1")
    [ -n "${2:-}" ] && args+=(-X "$2")
    # shellcheck disable=SC2207
    COMPREPLY+=($(compgen "${args[@]}" -- "$cur"))
    [ "$1" = -c ] || compopt -o filenames 2> /dev/null
}

# Whether word $1 is in list $2.
_cpmp_in() {
    [[ " ${2//$'\n'/ } " == *" $1 "* ]]
}

# The value of option $1 is being completed.  A --opt=VALUE word is split
# at '=' when COMP_WORDBREAKS holds it (bash's default), else whole.
_cpmp_value() {
    case $1 in
        --python) _cpmp_add_names -c; _cpmp_add_names -f ;;
        --cluster) _cpmp_add "local local:"; compopt -o nospace 2> /dev/null ;;
        --trace | --prefix) _cpmp_add_names -f ;;
    esac
}

# Index of the first word of the program (run) or command (exec) among
# words 2 .. cword-1, or -1 when the word being completed is still an
# option of cpmp's (or python3's).  For run, -c CODE and -m MODULE start it.
_cpmp_program_start() {
    local valued=$_cpmp_valued i=2 word
    [ "$1" = run ] && valued+=" $_cpmp_python_valued"
    while [ "$i" -lt "$cword" ]; do
        word=${words[i]}
        if [ "${words[i + 1]:-}" = "=" ]; then
            i=$((i + 3))
            continue
        fi
        if [ "$1" = exec ] && [ "$word" = "--" ]; then
            echo $((i + 1))
            return
        fi
        if [ "$1" = run ] && { [ "$word" = -c ] || [ "$word" = -m ] || [ "$word" = - ]; }; then
            echo "$i"
            return
        fi
        if [[ $word != -* ]]; then
            echo "$i"
            return
        fi
        if _cpmp_in "$word" "$valued"; then
            i=$((i + 1))
        fi
        i=$((i + 1))
    done
    echo -1
}

# cpmp run / exec / env, before their program: an option, its value, or
# the program's first word.
_cpmp_before_program() {
    local command=$1
    if [ "$prev" = "=" ] && [ "$cword" -ge 3 ]; then
        _cpmp_value "${words[cword - 2]}"
    elif [[ $cur == --*=* ]]; then
        local option=${cur%%=*}
        cur=${cur#*=}
        _cpmp_value "$option"
        COMPREPLY=("${COMPREPLY[@]/#/$option=}")
    elif _cpmp_in "$prev" "$_cpmp_valued"; then
        _cpmp_value "$prev"
    elif [ "$command" = run ] && _cpmp_in "$prev" "$_cpmp_python_valued"; then
        :
    elif [[ $cur == -* ]]; then
        _cpmp_add "$_cpmp_options"
        case $command in
            run) _cpmp_add "$_cpmp_python_options" ;;
            exec) _cpmp_add "--" ;;
        esac
    else
        case $command in
            run) _cpmp_add_names -d; _cpmp_add_names -f '!*.py'; _cpmp_add_names -f '!*.pyz' ;;
            exec) _cpmp_add_names -c ;;
        esac
    fi
}

_cpmp() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local words=("${COMP_WORDS[@]}") cword=$COMP_CWORD start
    COMPREPLY=()
    if [ "$cword" -eq 1 ]; then
        if [[ $cur == -* ]]; then
            _cpmp_add "--help --version"
        else
            _cpmp_add "run exec env doctor kernel help"
        fi
        return 0
    fi
    case ${words[1]} in
        run | exec | env)
            start=-1  # env has no program
            [ "${words[1]}" = env ] || start=$(_cpmp_program_start "${words[1]}")
            if [ "$start" -lt 0 ]; then
                _cpmp_before_program "${words[1]}"
            elif [ "${words[1]}" = run ]; then
                _cpmp_add_names -f
            elif [ "$start" -eq "$cword" ]; then
                _cpmp_add_names -c
            elif declare -F _command_offset > /dev/null; then
                _command_offset "$start"  # the command's own completion (bash-completion)
            else
                _cpmp_add_names -f
            fi
            ;;
        doctor)
            case $prev in
                --python) _cpmp_value --python ;;
                --cluster) _cpmp_value --cluster ;;
                *) _cpmp_add "--json --python --cluster --help" ;;
            esac
            ;;
        kernel)
            if [ "$cword" -eq 2 ]; then
                _cpmp_add "install uninstall"
            elif [ "$prev" = --prefix ]; then
                _cpmp_add_names -d
            elif [ "$prev" != --name ] && [ "$prev" != --display-name ]; then
                _cpmp_add "--user --prefix --name --help"
                [ "${words[2]}" = install ] && _cpmp_add "--display-name"
            fi
            ;;
        help)
            [ "$cword" -eq 2 ] && _cpmp_add "run exec env doctor kernel"
            ;;
    esac
    return 0
}

complete -F _cpmp cpmp
