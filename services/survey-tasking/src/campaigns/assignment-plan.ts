/**
 * The balanced distribution of a township's targets (按工作量均衡分配): villages and households to
 * teams, then households to the team's surveyors. Pure and deterministic: the same targets and teams
 * give the same plan.
 *
 * Teams get contiguous runs of households in village-code order (so a team works neighbouring villages,
 * and a village is split between two teams only where a run ends, as 高州 plans two teams per village),
 * each run within one household of the fair share. Inside a team every household goes whole to the
 * surveyor with the fewest targets so far: one named surveyor per household.
 */
export interface PlanHousehold {
  householdKey: string;
  villageCode: string;
  taskIds: string[];
}

export interface PlanTeam {
  teamId: string;
  /** Surveyor IDs in the team's order. */
  members: string[];
}

export interface TargetPlacement {
  taskId: string;
  teamId: string;
  surveyorId: string;
}

export interface AssignmentPlan {
  /** Per village (in code order), the teams working it. */
  villages: { villageCode: string; teamIds: string[] }[];
  targets: TargetPlacement[];
}

const byKey = (a: PlanHousehold, b: PlanHousehold): number =>
  a.villageCode < b.villageCode ? -1 : a.villageCode > b.villageCode ? 1 : a.householdKey < b.householdKey ? -1 : a.householdKey > b.householdKey ? 1 : 0;

export function planAssignment(households: readonly PlanHousehold[], teams: readonly PlanTeam[]): AssignmentPlan {
  const staffed = teams.filter((t) => t.members.length > 0);
  if (staffed.length === 0 || households.length === 0) return { villages: [], targets: [] };
  const ordered = [...households].filter((h) => h.taskIds.length > 0).sort(byKey);
  const total = ordered.reduce((n, h) => n + h.taskIds.length, 0);
  const share = total / staffed.length;
  const villageTeams = new Map<string, string[]>();
  const memberLoad = new Map<string, number>();
  const targets: TargetPlacement[] = [];
  let before = 0;
  for (const h of ordered) {
    // The team whose share the household's middle falls in.
    const index = Math.min(staffed.length - 1, Math.floor((before + h.taskIds.length / 2) / share));
    before += h.taskIds.length;
    const team = staffed[index] as PlanTeam;
    const teamsHere = villageTeams.get(h.villageCode) ?? [];
    if (!teamsHere.includes(team.teamId)) villageTeams.set(h.villageCode, [...teamsHere, team.teamId]);
    let surveyor = team.members[0] as string;
    for (const m of team.members) if ((memberLoad.get(m) ?? 0) < (memberLoad.get(surveyor) ?? 0)) surveyor = m;
    memberLoad.set(surveyor, (memberLoad.get(surveyor) ?? 0) + h.taskIds.length);
    for (const taskId of [...h.taskIds].sort()) targets.push({ taskId, teamId: team.teamId, surveyorId: surveyor });
  }
  return { villages: [...villageTeams].map(([villageCode, teamIds]) => ({ villageCode, teamIds })), targets };
}

/**
 * Who takes over the targets of surveyors who left a team: each household whole to the remaining member
 * with the fewest targets (counting what they hold already).
 */
export function planTakeOver(households: readonly PlanHousehold[], remaining: readonly string[], load: ReadonlyMap<string, number>): Map<string, string> {
  const out = new Map<string, string>();
  if (remaining.length === 0) return out;
  const current = new Map(remaining.map((m) => [m, load.get(m) ?? 0]));
  for (const h of [...households].sort(byKey)) {
    let surveyor = remaining[0] as string;
    for (const m of remaining) if ((current.get(m) ?? 0) < (current.get(surveyor) ?? 0)) surveyor = m;
    current.set(surveyor, (current.get(surveyor) ?? 0) + h.taskIds.length);
    for (const taskId of h.taskIds) out.set(taskId, surveyor);
  }
  return out;
}
