-- Every name that identifies a person in the inputs, once (case-insensitively), with the pseudonym that replaces
-- it wherever it appears. Users: the HR export's user names and e-mail local parts, sacct's User, the Kubernetes
-- user label (Jobs and pods), the training events' user. Groups: sacct's Group, unless it names a team (an organisational unit,
-- published as is); a group that is also a user's name is that user's private group and gets the user's
-- pseudonym, any other group gets its own ('g_').
with users as (
    select * from {{ source('org', 'users') }}
),

sacct as (
    select * from {{ source('scheduler', 'sacct_jobs') }}
),

k8s as (
    select * from {{ source('scheduler', 'k8s_jobs') }}
),

pods as (
    select * from {{ source('scheduler', 'k8s_pods') }}
),

events as (
    select * from {{ source('training', 'training_events') }}
),

named as (
    select user_name as name, 'user' as kind from users
    union all
    select split_part(email, '@', 1), 'user' from users
    union all
    select "user", 'user' from sacct
    union all
    select metadata ->> '$.labels."fleet.example.com/user"', 'user' from k8s
    union all
    select metadata ->> '$.labels."fleet.example.com/user"', 'user' from pods
    union all
    select attributes ->> '$.user', 'user' from events
    union all
    select "group", 'group' from sacct
),

teams as (
    select lower(team) as team from users
    union
    select lower(account) from sacct
    union
    select lower(metadata ->> '$.labels."fleet.example.com/team"') from k8s
    union
    select lower(metadata ->> '$.labels."fleet.example.com/team"') from pods
    union
    select lower(attributes ->> '$.team') from events
),

identities as (
    select
        lower(trim(name)) as name_lower,
        bool_or(kind = 'user') as is_user
    from named
    where coalesce(trim(name), '') <> ''
    group by all
),

final as (
    select
        identities.name_lower,
        case when identities.is_user then 'user' else 'group' end as kind,
        case when identities.is_user then {{ pseudonym('identities.name_lower') }}
            else {{ pseudonym('identities.name_lower', prefix='g_') }} end as pseudonym
    from identities
    where identities.is_user
        or identities.name_lower not in (select team from teams where team is not null)
)

select * from final
