#!/usr/bin/env bash
# Build last month's review pack and e-mail it; when a step fails, e-mail its log to the
# operator instead. Run on the 2nd of each month by cron, a systemd timer or CI (see the
# files beside this one and the README's "Every month, automatically").
#
# Settings, from the environment (systemd: EnvironmentFile=, CI: secrets):
#   KPI_SMTP          HOST:PORT of the mail server (required)
#   KPI_OPERATOR      who hears about a failed build (required)
#   KPI_SMTP_USER     login name, if the server wants one; its password is read from the
#                     variable KPI_SMTP_PASSWORD (never put it on a command line)
#   KPI_SMTP_SECURITY --starttls (default), --ssl, or empty for a local relay
#   KPI_FROM          sender address (default: the kit's)
#   KPI_CONFIG        kpi.toml (default kpi.toml)
#   KPI_RECIPIENTS    recipients file (default recipients.toml)
#   KPI_REPORTS       output folder (default: output in kpi.toml, else reports)
#   KPI_LINK_BASE     URL where reports/ is published, for links in the mails (optional)
#   KPI_PACK_OPTIONS  more options for kpi-kit pack, e.g. "--scopes company" (optional;
#                     split on spaces, so a team whose name has spaces cannot be named)
#   KPI_KIT           the kpi-kit command (default kpi-kit on PATH, e.g. .venv/bin/kpi-kit)
set -uo pipefail

: "${KPI_SMTP:?set KPI_SMTP to HOST:PORT of the mail server}"
: "${KPI_OPERATOR:?set KPI_OPERATOR to the address that hears about failures}"
kit=${KPI_KIT:-kpi-kit}
config=${KPI_CONFIG:-kpi.toml}
out=() reports=()  # the packs' folder: KPI_REPORTS, else output in kpi.toml (reports)
if [ -n "${KPI_REPORTS:-}" ]; then
  out=(--out "$KPI_REPORTS")
  reports=(--reports "$KPI_REPORTS")
fi
smtp=(--smtp "$KPI_SMTP" ${KPI_SMTP_SECURITY---starttls})
if [ -n "${KPI_SMTP_USER:-}" ]; then
  smtp+=(--user "$KPI_SMTP_USER" --password env:KPI_SMTP_PASSWORD)
fi
if [ -n "${KPI_FROM:-}" ]; then smtp+=(--from "$KPI_FROM"); fi
link=()
if [ -n "${KPI_LINK_BASE:-}" ]; then link=(--link-base "$KPI_LINK_BASE"); fi

log=$(mktemp "${TMPDIR:-/tmp}/kpi-kit-monthly.XXXXXX")
trap 'rm -f "$log"' EXIT

fail() {  # $1: what failed; the log goes to the operator, the exit code to the scheduler
  echo "kpi-kit monthly: $1 failed; mailing the log to $KPI_OPERATOR" >&2
  cat "$log" >&2
  if ! "$kit" notify --to "$KPI_OPERATOR" "${smtp[@]}" \
    --subject "Sales KPI pack: $1 failed on $(hostname)" --body-file "$log"; then
    # the scheduler's own failure report is all that is left (cron's MAILTO, systemd's
    # OnFailure=, the CI's failed-run e-mail): exit 2 tells it the operator was not told
    echo "kpi-kit monthly: the operator could not be mailed either" >&2
    exit 2
  fi
  exit 1
}

# shellcheck disable=SC2086  # KPI_PACK_OPTIONS is a list of options
set -f  # no file-name globbing of those options (team:* stays team:*)
"$kit" pack --month previous --config "$config" ${out[@]+"${out[@]}"} ${KPI_PACK_OPTIONS:-} \
  >"$log" 2>&1 || fail "the build of last month's pack"
set +f
"$kit" send --month previous --config "$config" ${reports[@]+"${reports[@]}"} \
  --recipients "${KPI_RECIPIENTS:-recipients.toml}" "${smtp[@]}" ${link[@]+"${link[@]}"} \
  >>"$log" 2>&1 || fail "sending last month's pack"
cat "$log"
