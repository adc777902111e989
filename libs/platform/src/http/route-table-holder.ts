import { Injectable } from '@nestjs/common';
import type { RouteTable } from './route-table';

/** The application's RouteTable, set by configureApp once the controllers exist. */
@Injectable()
export class RouteTableHolder {
  table?: RouteTable;
}
