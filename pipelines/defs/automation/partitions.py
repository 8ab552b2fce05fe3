from datetime import date, timedelta

import dagster as dg

from pipelines.lib.settings import partition_window

# one partition per UTC day of landed files, from the first day (configured, else the earliest landed) to the last:
# a replay's last day, or rolling on with end_offset=1 so that today's files can load before midnight
FIRST_DAY, LAST_DAY = partition_window()
daily = dg.DailyPartitionsDefinition(
    start_date=FIRST_DAY,
    end_date=f"{date.fromisoformat(LAST_DAY) + timedelta(days=1)}" if LAST_DAY else None,
    end_offset=0 if LAST_DAY else 1,
)
