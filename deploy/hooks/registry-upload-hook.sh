#!/usr/bin/env bash
# A model-registry upload hook: the registry calls it with the uploaded checkpoint's path
# before accepting it, and rejects the upload on a non-zero exit; the JSON verdict is kept
# next to the model for the registry UI.
#   registry-upload-hook.sh MODEL [POLICY]
set -euo pipefail
model=$1
policy=${2:-$(dirname "$(readlink -f "$0")")/policy.yaml}
verdict="$model.htsr-check.json"
set +e
# shellcheck disable=SC2086  # word-split on purpose: several options
htsr check "$model" --policy "$policy" --format json --quiet ${HTSR_CHECK_ARGS:-} >"$verdict"
rc=$?
set -e
case $rc in
  0) echo "accepted: $model" ;;
  1) echo "rejected: $model violates $policy (see $verdict)" >&2 ;;
  *) echo "rejected: $model could not be analysed (exit $rc)" >&2 ;;
esac
exit $rc
