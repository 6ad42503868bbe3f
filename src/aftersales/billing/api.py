"""CUS-5 in the API: a charge sheet as part of its work order or repair case, and a manager's exception on it (the
routes live with those two resources: service/api.py and repairs/api.py)."""

from rest_framework import serializers

from .models import ChargeLine, ChargeSheet

COST_FIELDS = ("integrator_total", "integrator_cost")  # our own cost: staff only, never in a customer's answer


class ChargeLineOut(serializers.ModelSerializer):
    class Meta:
        model = ChargeLine
        fields = ["kind", "description", "quantity", "customer_amount", "integrator_cost", "covered", "basis",
                  "movement", "reference"]


class ChargeSheetOut(serializers.ModelSerializer):
    """The sheet as issued. A customer's answer leaves out our own cost (`integrator_total`, each line's
    `integrator_cost`); so does an answer given without knowing who asks."""

    lines = ChargeLineOut(many=True, read_only=True)

    class Meta:
        model = ChargeSheet
        fields = ["fault_day", "device", "coverage", "customer_total", "integrator_total", "issued_at", "lines"]

    def to_representation(self, sheet):
        data = super().to_representation(sheet)
        request = self.context.get("request")
        if request is None or request.user.customer_id is not None:
            data.pop("integrator_total")
            for line in data["lines"]:
                line.pop("integrator_cost")
        return data


class ExceptionIn(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2,
                                      help_text="In yuan: negative for a discount, positive for a charge the rule "
                                                "does not make.")
    reason = serializers.CharField(max_length=200)


def sheet_out(sheet: ChargeSheet | None, context: dict) -> dict | None:
    return None if sheet is None else ChargeSheetOut(sheet, context=context).data


def sheet_of(job, owner: str) -> ChargeSheet | None:
    """The sheet already attached to `job` (`job.sheet`), else read with its lines."""
    if hasattr(job, "sheet"):
        return job.sheet
    return ChargeSheet.objects.filter(**{owner: job}).prefetch_related("lines").first()
