/** One entry of the device catalogue the spec search looks through. */
export interface DeviceSpec {
  vendor: string
  model: string
  category: string
  heightU: number
  powerWatts: number
  airflow: 'front-to-back' | 'back-to-front'
}

// Families of equipment with their typical height and power; generations scale the power.
const FAMILIES: readonly {
  vendor: string
  series: string
  category: string
  heightU: number
  watts: number
}[] = [
  { vendor: 'Dell', series: 'PowerEdge R6', category: 'server', heightU: 1, watts: 550 },
  { vendor: 'Dell', series: 'PowerEdge R7', category: 'server', heightU: 2, watts: 900 },
  { vendor: 'Dell', series: 'PowerEdge XE9', category: 'gpu-server', heightU: 6, watts: 5600 },
  { vendor: 'HPE', series: 'ProLiant DL3', category: 'server', heightU: 1, watts: 500 },
  { vendor: 'HPE', series: 'ProLiant DL38', category: 'server', heightU: 2, watts: 1000 },
  { vendor: 'HPE', series: 'Apollo 65', category: 'gpu-server', heightU: 4, watts: 3000 },
  { vendor: 'Lenovo', series: 'ThinkSystem SR6', category: 'server', heightU: 2, watts: 1100 },
  { vendor: 'Lenovo', series: 'ThinkSystem SR67', category: 'gpu-server', heightU: 3, watts: 2600 },
  { vendor: 'Supermicro', series: 'SYS-1', category: 'server', heightU: 1, watts: 600 },
  { vendor: 'Supermicro', series: 'SYS-42', category: 'gpu-server', heightU: 4, watts: 3200 },
  { vendor: 'Cisco', series: 'Nexus 93', category: 'switch', heightU: 1, watts: 450 },
  { vendor: 'Cisco', series: 'Catalyst 9', category: 'switch', heightU: 1, watts: 350 },
  { vendor: 'Arista', series: '7050', category: 'switch', heightU: 1, watts: 400 },
  { vendor: 'Arista', series: '7800R', category: 'switch', heightU: 7, watts: 4000 },
  { vendor: 'Juniper', series: 'QFX51', category: 'switch', heightU: 1, watts: 380 },
  { vendor: 'NetApp', series: 'AFF A', category: 'storage', heightU: 2, watts: 1200 },
  { vendor: 'NetApp', series: 'DS22', category: 'storage', heightU: 2, watts: 600 },
  { vendor: 'Pure', series: 'FlashArray X', category: 'storage', heightU: 3, watts: 1400 },
  { vendor: 'APC', series: 'Smart-UPS SRT', category: 'ups', heightU: 2, watts: 250 },
  { vendor: 'Raritan', series: 'PX3', category: 'pdu', heightU: 1, watts: 30 },
]

/** About two hundred catalogue entries, the same on every start (seeded once per database). */
export const DEVICE_SPECS: readonly DeviceSpec[] = FAMILIES.flatMap((family, f) =>
  Array.from({ length: 10 }, (_, g) => ({
    vendor: family.vendor,
    model: `${family.series}${String(g * 10 + ((f * 7) % 10)).padStart(2, '0')}`,
    category: family.category,
    heightU: family.heightU,
    powerWatts: Math.round(family.watts * (0.8 + 0.05 * g)),
    airflow:
      family.category === 'switch' && g % 3 === 2 ? ('back-to-front' as const) : ('front-to-back' as const),
  })),
)
