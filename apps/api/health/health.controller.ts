// GET /healthz: 200 when every dependency is up, 503 with the same body otherwise. Open: load
// balancers and the local stack probe it without a token.
import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../common/auth';
import { HealthService } from './health.service';

const REPORT = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded'] },
    dependencies: { type: 'object', additionalProperties: { type: 'object', properties: { status: { type: 'string', enum: ['up', 'down'] } } } },
  },
};

@ApiTags('operations')
@Public()
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('healthz')
  @ApiOperation({ summary: 'dependencies up or down (no token needed)' })
  @ApiOkResponse({ description: 'Temporal, Cloud Storage and Pub/Sub all answer', schema: REPORT })
  @ApiServiceUnavailableResponse({ description: 'at least one dependency is down (same body)', schema: REPORT })
  async healthz(@Res() res: Response): Promise<void> {
    const report = await this.health.check();
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  }
}
