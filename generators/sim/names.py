"""How the schedulers name a job's records, including the names that carry a person: a JupyterHub notebook on
Kubernetes is the Job jupyter-<user> in namespace user-<user> with the stateful pod jupyter-<user>-0; a Slurm
session started from a notebook is named jupyter-<User> (the hub's capitalised spelling); sacct's Group is the
user's private group. The privacy tests rely on the simulator writing these."""

from __future__ import annotations


def name_personal_jobs(jobs) -> None:
    """Name one Kubernetes notebook after its user, and one Slurm evaluation after the notebook that launched it.
    Only names change, so every figure stays as it was. One notebook only: a Job name is unique in its namespace,
    and the notebook must have a single submission (a requeued one would reuse the name)."""
    for job in jobs:
        if job.kind == "notebook" and job.cluster != "slurm-a" and len(job.attempts) == 1:
            if job.final_state != "pending":
                job.attempts[0].sched_job_id = f"jupyter-{job.user}"
                break
    for job in jobs:
        if job.kind == "evaluation" and job.cluster == "slurm-a" and job.attempts:
            job.sacct_name = f"jupyter-{job.user.capitalize()}"
            break


def sacct_job_name(job) -> str:
    return job.sacct_name or {"training": job.job_id, "evaluation": f"eval-{job.model}"}.get(
        job.kind, f"jupyter-{job.user}"
    )


def is_personal(job, sched_id: str) -> bool:
    return sched_id == f"jupyter-{job.user}"


def k8s_namespace(job, sched_id: str) -> str:
    return f"user-{job.user}" if is_personal(job, sched_id) else f"team-{job.team}"


def k8s_pod(job, sched_id: str) -> str:
    """A notebook server is a StatefulSet's pod <name>-0; anything else a training operator's worker."""
    return f"{sched_id}-0" if is_personal(job, sched_id) else f"{sched_id}-worker-0"
