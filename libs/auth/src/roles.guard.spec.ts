import { HttpException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { Departments, Public, Roles, SystemCallers } from './decorators';
import type { Principal } from './principal';
import { RolesGuard } from './roles.guard';

@Roles('admin')
class Controller {
  inherited(): void {}

  @Roles('surveyor')
  overridden(): void {}

  @SystemCallers()
  systemsOnly(): void {}

  @Roles('window-clerk') @Departments('tax')
  both(): void {}

  @Public()
  open(): void {}
}

const admin: Principal = { kind: 'person', sub: 'a', name: 'n', role: 'admin', division: '44' };
const surveyor: Principal = { kind: 'person', sub: 's', name: 'n', role: 'surveyor', division: '440981002001' };
const clerk: Principal = { kind: 'person', sub: 'c', name: 'n', role: 'window-clerk', division: '440981' };
const tax: Principal = { kind: 'system', department: 'tax', keyId: 'k' };

function status(handler: keyof Controller, principal?: Principal): number {
  const context = new ExecutionContextHost([{ principal }, {}, () => undefined], Controller, Controller.prototype[handler]);
  context.setType('http');
  try {
    new RolesGuard(new Reflector()).canActivate(context);
    return 200;
  } catch (e) {
    return (e as HttpException).getStatus();
  }
}

describe('RolesGuard', () => {
  it("applies the controller's declaration where the handler has none", () => {
    expect(status('inherited', admin)).toBe(200);
    expect(status('inherited', surveyor)).toBe(403);
  });

  it("lets a handler's declaration replace the controller's", () => {
    expect(status('overridden', surveyor)).toBe(200);
    expect(status('overridden', admin)).toBe(403);
    expect(status('systemsOnly', tax)).toBe(200);
    expect(status('systemsOnly', admin)).toBe(403);
  });

  it('combines people and systems on one route', () => {
    expect(status('both', clerk)).toBe(200);
    expect(status('both', tax)).toBe(200);
    expect(status('both', { kind: 'system', department: 'justice', keyId: 'j' })).toBe(403);
  });

  it('lets anyone through a public route, and nobody unauthenticated through another', () => {
    expect(status('open')).toBe(200);
    expect(status('inherited')).toBe(401);
  });
});
