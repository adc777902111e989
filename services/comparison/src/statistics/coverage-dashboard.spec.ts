import { readFileSync } from 'fs';
import { join } from 'path';
import { register } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { RegionPolicyProvider } from '@qmcb/service-kit';
import { COVERAGE_METRICS, CoverageGauges } from './coverage-gauges';
import type { CoverageRepository } from './coverage.repository';

interface Panel {
  id: number;
  targets?: { expr: string }[];
}

const dashboard = JSON.parse(readFileSync(join(__dirname, '../../../../deploy/grafana/dashboards/qmcb-coverage.json'), 'utf8')) as { uid: string; panels: Panel[]; templating: { list: { query: unknown }[] } };
const overview = JSON.parse(readFileSync(join(__dirname, '../../../../deploy/grafana/dashboards/qmcb-overview.json'), 'utf8')) as { uid: string };

describe('the provisioned coverage dashboard (deploy/grafana/dashboards/qmcb-coverage.json)', () => {
  it('queries only the coverage gauges comparison exports, with their labels', () => {
    // The gauges are registered when the class is made; nothing is counted here.
    new CoverageGauges(null as unknown as DataSource, null as unknown as CoverageRepository, null as unknown as RegionPolicyProvider);
    for (const [name, labels] of Object.entries(COVERAGE_METRICS)) {
      const metric = register.getSingleMetric(name) as unknown as { labelNames: string[] } | undefined;
      expect({ name, labels: metric?.labelNames }).toEqual({ name, labels: [...labels] });
    }
    const exprs = [...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dashboard.templating.list.map((v) => JSON.stringify(v.query))];
    const used = new Set(exprs.flatMap((e) => e.match(/qmcb_[a-z_]+/g) ?? []));
    expect([...used].filter((m) => !(m in COVERAGE_METRICS))).toEqual([]);
    expect(used.size).toBe(Object.keys(COVERAGE_METRICS).length);
    for (const e of exprs) {
      for (const [, label] of e.matchAll(/([a-z_]+)=~?\\?"/g)) expect(['division', 'name', 'level', 'insurance_type', 'status']).toContain(label);
    }
  });

  it('has a uid of its own and panels with distinct ids', () => {
    expect(dashboard.uid).not.toBe(overview.uid);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
