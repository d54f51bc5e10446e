"""Pure transforms: DataFrames in, DataFrames out, no Dagster. Each module is one stage of the contract."""
