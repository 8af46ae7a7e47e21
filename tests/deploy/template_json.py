"""Prints a CloudFormation template as JSON, read by cfn-lint's own loader.

Short-form tags (!Ref, !Sub, !GetAtt, !If, ...) come out in their long form
({"Ref": ...}, {"Fn::Sub": ...}), exactly as CloudFormation reads them, so
tests/tests/deploy_templates.rs checks the long form only. Run with the
deploy virtualenv's Python (MARSHAL_DEPLOY_PYTHON), which has cfn-lint.

Usage: template_json.py TEMPLATE
"""

import json
import sys

from cfnlint.decode import decode


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    template, problems = decode(sys.argv[1])
    if problems or template is None:
        for problem in problems:
            print(f"{sys.argv[1]}: {problem}", file=sys.stderr)
        return 1
    json.dump(template, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
