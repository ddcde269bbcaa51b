import type { Position, PositionInput, Rack, RackInput, RackRepository } from './rack-repository.ts'
import type { ThermalService } from './thermal-service.ts'

/**
 * Racks and their positions. Every write goes to the database first, then drops the rack's cached
 * computations on every pod before it returns, so the answer to a write is never followed by an
 * analysis of the rack as it was.
 */
export class RackService {
  constructor(
    private readonly racks: RackRepository,
    private readonly thermal: Pick<ThermalService, 'invalidateRack'>,
  ) {}

  create(input: RackInput): Rack {
    return this.racks.create(input)
  }

  list(): Omit<Rack, 'positions'>[] {
    return this.racks.list()
  }

  /** The rack with its positions; 404 when it does not exist. */
  get(id: number): Rack {
    return this.racks.get(id)
  }

  /** Renames or resizes; a rack cannot shrink below a position it holds (409). */
  async update(id: number, input: RackInput): Promise<Rack> {
    const rack = this.racks.update(id, input)
    await this.thermal.invalidateRack(id)
    return rack
  }

  async delete(id: number): Promise<void> {
    this.racks.delete(id)
    await this.thermal.invalidateRack(id)
  }

  /** Adds a position; 409 when it does not fit or overlaps another. */
  async addPosition(rackId: number, input: PositionInput): Promise<Position> {
    const position = this.racks.addPosition(rackId, input)
    await this.thermal.invalidateRack(rackId)
    return position
  }

  async deletePosition(rackId: number, positionId: number): Promise<void> {
    this.racks.deletePosition(rackId, positionId)
    await this.thermal.invalidateRack(rackId)
  }
}
