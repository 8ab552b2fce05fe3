import dagster as dg

from pipelines.lib.settings import FIRST_PARTITION

# one partition per UTC day of landed files; end_offset=1 so today's files can load before midnight
daily = dg.DailyPartitionsDefinition(start_date=FIRST_PARTITION, end_offset=1)
