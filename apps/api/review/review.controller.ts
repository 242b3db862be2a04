// The reviewer page (static HTML + vanilla JS, no build step: /review) and its data route
// (/v1/review/flagged). The page itself holds no data and is open; it asks for the reviewer
// token once (sessionStorage) and sends it as a bearer token on every API call it makes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header, Param, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { Public, Roles } from '../common/auth';
import { ErrorDto } from '../common/error.dto';
import { DomainError } from '../common/errors';
import { ReviewService, type FlaggedSnippet } from './review.service';

// The page's files live beside the sources (apps/api/review/page); dist/apps/api/review → repo root.
const PAGE_DIR = join(__dirname, '..', '..', '..', '..', 'apps', 'api', 'review', 'page');
const page = (name: string) => readFileSync(join(PAGE_DIR, name), 'utf8');
const ASSETS = {
  'review.js': { file: 'js', contentType: 'text/javascript; charset=utf-8' },
  'review.css': { file: 'css', contentType: 'text/css; charset=utf-8' },
} as const;

export class FlaggedQuery {
  @ApiPropertyOptional({ pattern: '^[A-Za-z0-9_-]{1,64}$' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'livestreamId must be 1 to 64 of A-Z a-z 0-9 _ -' })
  livestreamId?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

class FlaggedListDto {
  @ApiProperty({ description: 'tapedeck.score.v1 documents of flagged snippets, newest first', type: 'array', items: { type: 'object' } })
  flagged!: FlaggedSnippet[];
}

@ApiTags('review')
@Controller()
export class ReviewController {
  private readonly files = { html: page('review.html'), js: page('review.js'), css: page('review.css') };

  constructor(private readonly review: ReviewService) {}

  @Get('review')
  @Public()
  @ApiOperation({ summary: 'the reviewer page (static HTML; asks for the reviewer token, then calls the API with it)' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'the page' })
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  html(): string {
    return this.files.html;
  }

  @Get('review/:asset')
  @Public()
  @ApiOperation({ summary: "the reviewer page's script (plain JavaScript, no build step) and style sheet" })
  @ApiParam({ name: 'asset', enum: Object.keys(ASSETS) })
  @ApiProduces('text/javascript', 'text/css')
  @ApiOkResponse({ description: 'the file' })
  @ApiNotFoundResponse({ description: 'no such file', type: ErrorDto })
  asset(@Param('asset') name: string, @Res({ passthrough: true }) res: Response): string {
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name as keyof typeof ASSETS] : undefined;
    if (!asset) throw new DomainError('not_found', 'route_not_found', `the reviewer page has no file "${name}"`);
    res.setHeader('content-type', asset.contentType);
    return this.files[asset.file];
  }

  @Get('v1/review/flagged')
  @Roles('reviewer', 'moderation')
  @ApiOperation({ summary: 'flagged snippets with their scores, reasons and requested clips, newest first' })
  @ApiOkResponse({ type: FlaggedListDto })
  @ApiBadRequestResponse({ description: 'livestreamId or limit is invalid (named in details.fields)', type: ErrorDto })
  async flagged(@Query() q: FlaggedQuery): Promise<FlaggedListDto> {
    return { flagged: await this.review.flagged({ ...(q.livestreamId ? { livestreamId: q.livestreamId } : {}), limit: q.limit ?? 50 }) };
  }
}
