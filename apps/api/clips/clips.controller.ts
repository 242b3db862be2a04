// /v1/clips: extended clips (contract). Thin: validated DTOs in, the service's plain results out;
// reviewers and the moderation system may call both routes.
import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import { Roles } from '../common/auth';
import { ErrorDto } from '../common/error.dto';
import { ClipsService } from './clips.service';
import { ClipAcceptedDto, ClipStatusDto } from './dto/clip-status.dto';
import { ClipParams, RequestClipDto } from './dto/request-clip.dto';

@ApiTags('clips')
@ApiBadRequestResponse({ description: 'a parameter or field is invalid (named in details.fields)', type: ErrorDto })
@ApiServiceUnavailableResponse({ description: 'Temporal or Cloud Storage unreachable', type: ErrorDto })
@Controller('v1/clips')
export class ClipsController {
  constructor(private readonly clips: ClipsService) {}

  @Post()
  @Roles('reviewer', 'moderation')
  @HttpCode(202)
  @ApiOperation({ summary: 'ask for one recording between two times, merged into one MP4 (the same request twice is the same clip)' })
  @ApiAcceptedResponse({ type: ClipAcceptedDto })
  @ApiNotFoundResponse({ description: 'livestream_not_found, recording_not_found, or no_snippets_in_range (a past range with nothing in the bucket)', type: ErrorDto })
  @ApiPayloadTooLargeResponse({ type: ErrorDto })
  @ApiUnsupportedMediaTypeResponse({ type: ErrorDto })
  request(@Body() body: RequestClipDto): Promise<ClipAcceptedDto> {
    return this.clips.request(body);
  }

  @Get(':clipId')
  @Roles('reviewer', 'moderation')
  @ApiOperation({ summary: 'clip status; once ready the object URI, a signed URL with its expiry, the duration and the snippets it was made from' })
  @ApiOkResponse({ type: ClipStatusDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  get(@Param() p: ClipParams): Promise<ClipStatusDto> {
    return this.clips.get(p.clipId);
  }
}
