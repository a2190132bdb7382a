/** Types of bundle.mjs (plain JavaScript, run by node before anything is built). */
export declare const root: string;
export declare function bundle(target: { entry: string; out: string; owner: string }): Promise<string[]>;
