// /v1/livestreams: the contract's livestream routes. Thin: validated DTOs in, the service's
// plain results out; roles per the contract table.
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
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
import { HostSpecDto } from './dto/host-spec.dto';
import { HostParams, LayoutDto, LivestreamParams, OutputsDto, SnippetsQuery, StopQuery, SwitchDto } from './dto/requests.dto';
import { AcceptedDto, HostJoinedDto, LivestreamStatusDto, SnippetListDto, StartedLivestreamDto } from './dto/responses.dto';
import { StartLivestreamDto } from './dto/start-livestream.dto';
import { LivestreamsService } from './livestreams.service';

const accepted = (livestreamId: string) => ({ livestreamId, status: 'accepted' as const });

@ApiTags('livestreams')
@ApiBadRequestResponse({ description: 'a parameter or field is invalid (named in details.fields)', type: ErrorDto })
@ApiServiceUnavailableResponse({ description: 'no media capacity (start), or Temporal/Cloud Storage unreachable', type: ErrorDto })
@Controller('v1/livestreams')
export class LivestreamsController {
  constructor(private readonly livestreams: LivestreamsService) {}

  @Post()
  @Roles('livestream-service')
  @ApiOperation({ summary: 'start recording a livestream (or return the running one)' })
  @ApiCreatedResponse({ type: StartedLivestreamDto })
  @ApiConflictResponse({ description: 'this livestream id was already recorded and has stopped', type: ErrorDto })
  @ApiPayloadTooLargeResponse({ type: ErrorDto })
  @ApiUnsupportedMediaTypeResponse({ type: ErrorDto })
  start(@Body() body: StartLivestreamDto): Promise<StartedLivestreamDto> {
    return this.livestreams.start(body);
  }

  @Get(':id')
  @Roles('livestream-service', 'reviewer', 'moderation')
  @ApiOperation({ summary: 'status: hosts, recordings, snippets shipped, warnings, health' })
  @ApiOkResponse({ type: LivestreamStatusDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  status(@Param() p: LivestreamParams): Promise<LivestreamStatusDto> {
    return this.livestreams.status(p.id);
  }

  @Delete(':id')
  @Roles('livestream-service')
  @HttpCode(202)
  @ApiOperation({ summary: 'stop: finalize every recording, ship every snippet, then complete (idempotent)' })
  @ApiAcceptedResponse({ schema: { type: 'object', properties: { livestreamId: { type: 'string' }, status: { type: 'string', enum: ['stopping', 'stopped'] } } } })
  @ApiNotFoundResponse({ type: ErrorDto })
  async stop(@Param() p: LivestreamParams, @Query() q: StopQuery): Promise<{ livestreamId: string; status: string }> {
    return { livestreamId: p.id, status: await this.livestreams.stop(p.id, q.reason ?? 'requested') };
  }

  @Post(':id/hosts')
  @Roles('livestream-service')
  @ApiOperation({ summary: 'a host joins; returns where the SFU sends its RTP (same answer when repeated)' })
  @ApiCreatedResponse({ type: HostJoinedDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  @ApiConflictResponse({ description: 'the livestream is stopping or stopped', type: ErrorDto })
  join(@Param() p: LivestreamParams, @Body() body: HostSpecDto): Promise<HostJoinedDto> {
    return this.livestreams.joinHost(p.id, body);
  }

  @Delete(':id/hosts/:hostId')
  @Roles('livestream-service')
  @HttpCode(202)
  @ApiOperation({ summary: 'a host leaves (idempotent)' })
  @ApiAcceptedResponse({ type: AcceptedDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto })
  async leave(@Param() p: HostParams): Promise<AcceptedDto> {
    await this.livestreams.leaveHost(p.id, p.hostId);
    return accepted(p.id);
  }

  @Put(':id/hosts/:hostId/camera')
  @Roles('livestream-service')
  @HttpCode(202)
  @ApiOperation({ summary: "a host's camera goes on or off" })
  @ApiAcceptedResponse({ type: AcceptedDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto })
  @ApiUnsupportedMediaTypeResponse({ type: ErrorDto })
  async camera(@Param() p: HostParams, @Body() body: SwitchDto): Promise<AcceptedDto> {
    await this.livestreams.setCamera(p.id, p.hostId, body.on);
    return accepted(p.id);
  }

  @Put(':id/hosts/:hostId/microphone')
  @Roles('livestream-service')
  @HttpCode(202)
  @ApiOperation({ summary: "a host's microphone goes on or off" })
  @ApiAcceptedResponse({ type: AcceptedDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto })
  @ApiUnsupportedMediaTypeResponse({ type: ErrorDto })
  async microphone(@Param() p: HostParams, @Body() body: SwitchDto): Promise<AcceptedDto> {
    await this.livestreams.setMicrophone(p.id, p.hostId, body.on);
    return accepted(p.id);
  }

  @Put(':id/layout')
  @Roles('livestream-service')
  @HttpCode(202)
  @ApiOperation({ summary: "the composite's layout" })
  @ApiAcceptedResponse({ type: AcceptedDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto })
  @ApiUnsupportedMediaTypeResponse({ type: ErrorDto })
  async layout(@Param() p: LivestreamParams, @Body() body: LayoutDto): Promise<AcceptedDto> {
    await this.livestreams.setLayout(p.id, body);
    return accepted(p.id);
  }

  @Put(':id/outputs')
  @Roles('livestream-service')
  @HttpCode(202)
  @ApiOperation({ summary: "replaces the composite's RTMP destinations while it runs (added ones connect, missing ones stop)" })
  @ApiAcceptedResponse({ type: AcceptedDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto })
  @ApiUnsupportedMediaTypeResponse({ type: ErrorDto })
  async outputs(@Param() p: LivestreamParams, @Body() body: OutputsDto): Promise<AcceptedDto> {
    await this.livestreams.setOutputs(p.id, body.rtmp);
    return accepted(p.id);
  }

  @Get(':id/snippets')
  @Roles('reviewer')
  @ApiOperation({ summary: 'shipped snippets overlapping a time range, read from the bucket' })
  @ApiOkResponse({ type: SnippetListDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  snippets(@Param() p: LivestreamParams, @Query() q: SnippetsQuery): Promise<SnippetListDto> {
    return this.livestreams.listSnippets(p.id, q);
  }
}
