# bash completion for certctld. Written by hand (certctld has a handful of
# options); tests/cmd/docs_test.cc checks it offers every option of
# `certctld --help`.
_certctld() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=
  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
  case $prev in
    --config) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --data-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --log-format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
    --log-level) COMPREPLY=($(compgen -W "trace debug info warn error" -- "$cur")); return ;;
  esac
  COMPREPLY=($(compgen -W "--config --dev --data-dir --log-format --log-level --version --help" -- "$cur"))
}
complete -F _certctld certctld
