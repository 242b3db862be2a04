// The reviewer feature: the /review page and the flagged-snippet data it shows.
import { Module } from '@nestjs/common';
import { ReviewController } from './review.controller';
import { ReviewService } from './review.service';

@Module({ controllers: [ReviewController], providers: [ReviewService] })
export class ReviewModule {}
