#!/usr/bin/env zsh
# Prints, one per line, what zsh's completion offers for a command line, the way an interactive
# shell would compute it on <TAB>. Usage: zsh -f complete.zsh SETUP_FILE 'tailcalls prog '
# Completion functions run only inside a line editor widget, so this starts an interactive zsh in
# a pseudo-terminal (zsh/zpty), wraps compadd to print each match it adds ("<m>WORD"; split in the source so that the echo of the definition does not match), types
# the line and a TAB, and reads until the completion is over ("done").
setup=$1 line=$2
zmodload zsh/zpty || exit 3
zpty shell zsh -f -i
zpty -w shell "PROMPT='' RPROMPT=''"
zpty -w shell "source ${(q)setup}"
zpty -w shell 'bindkey "^I" complete-word'
# A compadd that only computes (-O/-A/-D: _describe and _arguments probing) stays untouched.
zpty -w shell 'compadd() { if (( ${@[(I)-[OAD]]} )); then builtin compadd "$@"; return; fi; local -a m; builtin compadd -O m "$@"; print -rl -- ${m/#/"<m"">"}; builtin compadd "$@"; }'
zpty -w shell 'comppostfuncs=(_tc_done); _tc_done() { print -r -- "--""done--"; exit }'
zpty -n -w shell "$line"$'\t'
while zpty -r shell out; do
  out=${out%$'\r'}
  out=${out%$'\n'}
  out=${out%$'\r'}
  [[ $out == *--done--* ]] && break
  [[ $out == *'<m>'* ]] && print -r -- ${out##*'<m>'}
done
zpty -d shell
