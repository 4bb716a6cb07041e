"""The district side (shared/spec/district-rollup.md): collecting the schools' year-end
workbooks (`collect`) and rolling them up (`rollup`).  Runs in a unit of kind "district"
only: every service here refuses in a school unit (`collect.ensure_district`)."""
