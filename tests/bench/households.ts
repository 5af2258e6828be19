/** Deterministic, realistic-looking households for the benchmarks (no randomness: the same N gives the same data). */
export const GRIDS = ['330523102001001', '330523102001002', '330523102001003', '330523102002001'] as const
const SURNAMES = '潘王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁'
const GIVEN = '建国秀英志强春花晓燕海涛美琴国庆丽华德明桂芳小龙文军玉兰永红金凤'
const ROADS = ['竹海路', '溪口路', '天荒坪路', '大溪街', '余村路', '高家堂路', '山川大道', '银坑路']

export function benchHousehold(i: number) {
  const surname = SURNAMES[i % SURNAMES.length]!
  const given = GIVEN.slice((i * 2) % (GIVEN.length - 1), ((i * 2) % (GIVEN.length - 1)) + 2)
  const phone = `13${String(100000000 + ((i * 7_654_321) % 900000000)).padStart(9, '0')}`
  return {
    gridId: GRIDS[i % GRIDS.length]!,
    address: `天荒坪镇${ROADS[i % ROADS.length]}${(i % 400) + 1}号`,
    houseNumber: `${(i % 400) + 1}号`,
    housing: 'owned' as const,
    headName: `${surname}${given}`,
    headPhone: phone,
    memberCount: (i % 6) + 1,
    notes: null,
  }
}
