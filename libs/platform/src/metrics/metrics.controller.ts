import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '@qmcb/auth';
import { register } from 'prom-client';

@ApiExcludeController()
@Controller()
export class MetricsController {
  @Public()
  @Get('metrics')
  async metrics(@Res({ passthrough: true }) res: Response): Promise<string> {
    res.type(register.contentType);
    return register.metrics();
  }
}
