# Builds dist\ml-connector-agent\ (PyInstaller onedir) on a Windows machine.
# Run from the repository root in PowerShell:  .\packaging\windows\build.ps1
# The Python uv uses must have the same bitness as the Sage ODBC driver (64-bit for Sage 100
# 2022 and later with the 64-bit driver, 32-bit otherwise): pass -Python to choose it.
param([string]$Python = "3.12")
$ErrorActionPreference = "Stop"
uv run --frozen --python $Python --extra agent --group windows-build pyinstaller `
    --noconfirm --distpath dist --workpath build\pyinstaller `
    packaging\windows\ml-connector-agent.spec
& dist\ml-connector-agent\ml-connector-agent.exe check --help | Out-Null
Write-Host "Built dist\ml-connector-agent\ (copy the whole folder to the Sage server)."
